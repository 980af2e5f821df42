-- Every stored feedback row, to compare with Dify's current feedback.
SELECT message_id, from_source, rating, content, created_at, updated_at FROM feedbacks

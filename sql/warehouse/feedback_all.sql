-- Every stored feedback row, with its message's app (NULL when the message is not stored), to
-- compare with Dify's current feedback of the selected apps.
SELECT f.message_id, f.from_source, f.rating, f.content, f.created_at, f.updated_at, m.app_id
FROM feedbacks f
LEFT JOIN messages m ON m.message_id = f.message_id

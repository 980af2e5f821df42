INSERT INTO feedbacks (message_id, from_source, rating, content, created_at, updated_at) 

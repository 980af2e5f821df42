-- Stores one Dify feedback row as it is now.
INSERT INTO feedbacks (message_id, from_source, rating, content, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (message_id, from_source) DO UPDATE SET
    rating = excluded.rating,
    content = excluded.content,
    created_at = excluded.created_at,
    updated_at = excluded.updated_at

-- The stored feedback rows on the messages of some buckets, each given as the key range
-- (low, high) of the message ids starting with it (src/warehouse/feedback.rs), with their
-- message's app (NULL when the message is not stored).
WITH buckets (low, high) AS ({{values}})
SELECT f.message_id, f.from_source, f.rating, f.content, f.created_at, f.updated_at, m.app_id
FROM buckets b
JOIN feedbacks f ON f.message_id >= b.low AND f.message_id < b.high
LEFT JOIN messages m ON m.message_id = f.message_id

-- sql/warehouse/feedback_in_buckets.sql when every app is selected: the rows only, without
-- their message's app (a lookup of each row's message; docs/performance.md, "Incremental
-- runs").
WITH buckets (low, high) AS ({{values}})
SELECT f.message_id, f.from_source, f.rating, f.content, f.created_at, f.updated_at, CAST(NULL AS TEXT) AS app_id
FROM buckets b
JOIN feedbacks f ON f.message_id >= b.low AND f.message_id < b.high

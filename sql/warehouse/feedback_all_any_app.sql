-- Every stored feedback row, to compare with Dify's current feedback when every app is
-- selected: no message's app is needed, so no lookup of each row's message (which reads a
-- random page of the messages table per row; docs/performance.md, "Incremental runs").
SELECT f.message_id, f.from_source, f.rating, f.content, f.created_at, f.updated_at, CAST(NULL AS TEXT) AS app_id
FROM feedbacks f

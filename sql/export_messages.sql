-- The export the file source reads (`itstat ingest --from-file`), for sites where itstat
-- cannot reach Dify's database. A DBA runs it read-only and hands over the file:
--
--   scripts/export-dify.sh 'postgres://difyro@dify-db/dify' dify-export.csv [SINCE]
--
-- which runs psql's \copy (query) TO 'dify-export.csv' WITH (FORMAT csv, HEADER). Columns:
-- {{columns}}, which the script fills with those of sql/dify/message_columns.sql (the extract's,
-- so a new Dify column is listed once), each probed column ({{parent_message_id}}, …) read as
-- to_jsonb(m) ->> 'name', which works without failing on older schemas; then the app's name and
-- each message's current user and admin feedback. {{since}} (a date, checked and filled in by
-- the script) limits the export to messages created at or after it; 1970-01-01 exports
-- everything.
SELECT
    {{columns}},
    a.name::text                        AS app_name,
    fu.rating::text                     AS user_feedback,
    fu.content                          AS user_feedback_content,
    fu.created_at                       AS user_feedback_at,
    fa.rating::text                     AS admin_feedback,
    fa.content                          AS admin_feedback_content,
    fa.created_at                       AS admin_feedback_at
FROM messages m
LEFT JOIN apps a ON a.id = m.app_id
LEFT JOIN end_users eu ON eu.id = m.from_end_user_id
LEFT JOIN accounts acc ON acc.id = m.from_account_id
LEFT JOIN conversations c ON c.id = m.conversation_id
LEFT JOIN LATERAL (SELECT f.rating, f.content, f.created_at FROM message_feedbacks f
                   WHERE f.message_id = m.id AND f.from_source = 'user'
                   ORDER BY f.updated_at DESC LIMIT 1) fu ON TRUE
LEFT JOIN LATERAL (SELECT f.rating, f.content, f.created_at FROM message_feedbacks f
                   WHERE f.message_id = m.id AND f.from_source = 'admin'
                   ORDER BY f.updated_at DESC LIMIT 1) fa ON TRUE
WHERE m.created_at >= '{{since}}'::timestamp
ORDER BY m.created_at, m.id

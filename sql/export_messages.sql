-- The export the file source reads (`itstat ingest --from-file`), for sites where itstat
-- cannot reach Dify's database. A DBA runs it read-only and hands over the file:
--
--   scripts/export-dify.sh 'postgres://difyro@dify-db/dify' dify-export.csv [SINCE]
--
-- which runs psql's \copy (query) TO 'dify-export.csv' WITH (FORMAT csv, HEADER). Columns:
-- those of sql/dify/message_columns.sql plus the app's name and each message's current user
-- and admin feedback. to_jsonb(m) reads the columns later Dify versions added without failing
-- on older schemas. {{since}} (a date, checked and filled in by the script) limits the export
-- to messages created at or after it; 1970-01-01 exports everything.
SELECT
    m.id::text                          AS id,
    m.app_id::text                      AS app_id,
    a.name::text                        AS app_name,
    m.conversation_id::text             AS conversation_id,
    m.created_at                        AS created_at,
    m.updated_at                        AS updated_at,
    m.query                             AS query,
    m.answer                            AS answer,
    m.status::text                      AS status,
    m.error                             AS error,
    m.from_source::text                 AS from_source,
    m.from_end_user_id::text            AS from_end_user_id,
    m.from_account_id::text             AS from_account_id,
    m.invoke_from::text                 AS invoke_from,
    m.inputs::text                      AS inputs,
    m.message_tokens::bigint            AS message_tokens,
    m.answer_tokens::bigint             AS answer_tokens,
    m.provider_response_latency::float8 AS latency_s,
    m.total_price::float8               AS total_price,
    m.currency::text                    AS currency,
    to_jsonb(m) ->> 'parent_message_id' AS parent_message_id,
    to_jsonb(m) ->> 'app_mode'          AS app_mode,
    eu.session_id::text                 AS end_user_session_id,
    acc.email::text                     AS account_email,
    c.name::text                        AS conversation_name,
    c.is_deleted                        AS conversation_deleted,
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

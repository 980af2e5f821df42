-- A reclassification's first read of the stored messages (warehouse/verdicts.rs): the columns
-- the rules read, then the verdicts stored for them; keyset-paged by id. `position` is
-- SQLite's rowid there (sqlite/messages_stored_verdicts.sql), 0 here.
SELECT message_id AS id, app_id, created_at, query, answer, status, invoke_from, from_account_id,
       account_email, end_user_session_id, inputs,
       question, state, user_key, local_time, local_date, included, kb_hit, transfer,
       CAST(0 AS BIGINT) AS position
FROM messages
WHERE message_id > $1
ORDER BY message_id
LIMIT $2

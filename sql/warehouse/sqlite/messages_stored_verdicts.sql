-- A reclassification's first read of the stored messages in SQLite (warehouse/verdicts.rs):
-- the columns the rules read, then the verdicts stored for them, then the rowid; keyset-paged
-- by rowid, so the table is read in the order it is stored (as messages_stored_raw_of.sql's
-- rows are not: only rows whose verdicts change are read whole, by id).
SELECT message_id AS id, app_id, created_at, query, answer, status, invoke_from, from_account_id,
       account_email, end_user_session_id, inputs,
       question, state, user_key, local_time, local_date, included, kb_hit, transfer,
       rowid AS position
FROM messages
WHERE rowid > $1
ORDER BY rowid
LIMIT $2

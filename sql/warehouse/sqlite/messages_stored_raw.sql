-- messages_stored_raw.sql in SQLite: the same columns plus each row's rowid, keyset-paged by
-- rowid instead of by id. Paging by id walks the key's index and fetches each row from a
-- random place of the table; by rowid the table is read in the order it is stored (300,000
-- rows: 0.6 s instead of 1.6 s; docs/performance.md, "Reclassification"). A reclassification
-- runs in one transaction and updates rows in place (ON CONFLICT DO UPDATE keeps the rowid), so
-- every row is read exactly once.
SELECT message_id AS id, content_hash, user_key, included, app_id, conversation_id, created_at, updated_at, query, answer, status,
       error, from_source, from_end_user_id, from_account_id, invoke_from, inputs,
       message_tokens, answer_tokens, latency_s, total_price, currency, parent_message_id,
       app_mode, end_user_session_id, account_email, conversation_name, conversation_deleted,
       rowid AS position
FROM messages
WHERE rowid > $1
ORDER BY rowid
LIMIT $2

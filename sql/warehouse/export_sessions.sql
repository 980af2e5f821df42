-- `itstat export`: every column of the sessions dated $1 (a local date), oldest first.
SELECT session_id, user_key, started_at, ended_at, local_date, messages, answered, errors,
       pending, kb_hits, transfer_messages, manual_messages, is_transfer, is_manual,
       is_self_resolved
FROM sessions
WHERE local_date = $1
ORDER BY started_at, session_id

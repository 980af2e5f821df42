-- The messages of one session, in order.
SELECT message_id, local_time, question, state FROM messages
WHERE session_id = $1 ORDER BY created_at, message_id

-- The messages of one session ($1), in order; $2 and $3 (its user and start) let the
-- (user_key, created_at, message_id) index find them.
SELECT message_id, local_time, user_key, question, state FROM messages
WHERE user_key = $2 AND created_at >= $3 AND session_id = $1
ORDER BY created_at, message_id

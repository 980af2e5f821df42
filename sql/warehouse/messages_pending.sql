-- Messages still pending (blank answer) created in [$1, $2): re-read by id because they are
-- older than the look-back window but younger than `pending_max_age`.
SELECT message_id FROM messages
WHERE state = 'pending' AND created_at >= $1 AND created_at < $2
ORDER BY created_at, message_id

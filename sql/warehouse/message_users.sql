-- The user key, time and inclusion of one message (to recompute its user's sessions).
SELECT user_key, created_at, included FROM messages WHERE message_id = $1

-- Every user from their first included message: a full session rebuild.
INSERT INTO affected_users (user_key, from_at, from_id)
SELECT user_key, MIN(created_at), '' FROM messages WHERE included GROUP BY user_key

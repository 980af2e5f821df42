-- The user key with the most included messages on a local date, and its count (one_user_key).
SELECT user_key, COUNT(*) AS n FROM messages
WHERE included AND local_date = $1
GROUP BY user_key ORDER BY n DESC, user_key LIMIT 1

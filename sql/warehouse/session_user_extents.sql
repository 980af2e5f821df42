-- Every user with included messages, with the time of their first one and how many they
-- have: a full session rebuild takes the users a group at a time.
SELECT user_key, MIN(created_at) AS first_at, COUNT(*) AS messages
FROM messages
WHERE included
GROUP BY user_key
ORDER BY user_key

-- The open episode of an alert kind and subject, if any.
SELECT episode_id, opened_at FROM alert_episodes
WHERE kind = $1 AND subject = $2 AND cleared_at IS NULL
ORDER BY episode_id DESC LIMIT 1

-- What one recipient was told about the episodes still open or not yet told ended.
SELECT n.episode_id, n.recipient, n.firing_sent_at, n.held_at, n.resolved_sent_at
FROM alert_notifications n JOIN alert_episodes e ON e.episode_id = n.episode_id
WHERE n.recipient = $1 AND (e.cleared_at IS NULL OR n.resolved_sent_at IS NULL)

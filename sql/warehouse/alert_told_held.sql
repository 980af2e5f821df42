-- Quiet time held the episode for this recipient (the first hold is kept).
INSERT INTO alert_notifications (episode_id, recipient, held_at) VALUES ($1, $2, $3)
ON CONFLICT (episode_id, recipient) DO UPDATE
SET held_at = COALESCE(alert_notifications.held_at, excluded.held_at)

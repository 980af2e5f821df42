-- This recipient was told the episode ended (or it was passed over: send_resolved = false).
INSERT INTO alert_notifications (episode_id, recipient, resolved_sent_at) VALUES ($1, $2, $3)
ON CONFLICT (episode_id, recipient) DO UPDATE SET resolved_sent_at = excluded.resolved_sent_at

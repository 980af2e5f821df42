-- A post or mail told this recipient that the episode fires.
INSERT INTO alert_notifications (episode_id, recipient, firing_sent_at) VALUES ($1, $2, $3)
ON CONFLICT (episode_id, recipient) DO UPDATE SET firing_sent_at = excluded.firing_sent_at

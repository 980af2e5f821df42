-- Opens an episode.
INSERT INTO alert_episodes (kind, subject, opened_at, last_seen_at) VALUES ($1, $2, $3, $3)
RETURNING episode_id

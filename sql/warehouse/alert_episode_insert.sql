-- Opens an episode at the check that first sees its condition; `fired_at` is set too when it
-- fires at once (no `for` to wait).
INSERT INTO alert_episodes (kind, subject, opened_at, last_seen_at, fired_at) VALUES ($1, $2, $3, $3, $4)
RETURNING episode_id

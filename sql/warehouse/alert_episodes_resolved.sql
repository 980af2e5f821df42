-- Episodes that fired and ended since a time, newest end first (`itstat alerts list`).
SELECT episode_id, kind, subject, opened_at, fired_at, last_seen_at, cleared_at
FROM alert_episodes WHERE cleared_at >= $1 AND fired_at IS NOT NULL
ORDER BY cleared_at DESC, episode_id DESC LIMIT $2

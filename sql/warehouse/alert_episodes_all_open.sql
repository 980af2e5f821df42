-- Every open episode, pending or firing.
SELECT episode_id, kind, subject, opened_at, fired_at, last_seen_at, cleared_at
FROM alert_episodes WHERE cleared_at IS NULL ORDER BY episode_id

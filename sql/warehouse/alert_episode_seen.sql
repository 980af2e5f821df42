-- An open episode's alert still fires.
UPDATE alert_episodes SET last_seen_at = $2 WHERE episode_id = $1

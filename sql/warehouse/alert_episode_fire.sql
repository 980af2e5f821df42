-- A pending episode has held for `for`: it fires from now.
UPDATE alert_episodes SET fired_at = $2 WHERE episode_id = $1 AND fired_at IS NULL

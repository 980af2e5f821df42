-- Closes an episode whose alert no longer fires.
UPDATE alert_episodes SET cleared_at = $2 WHERE episode_id = $1

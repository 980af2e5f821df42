-- A pending episode whose condition went away before `for`: never fired, not news.
DELETE FROM alert_episodes WHERE episode_id = $1 AND fired_at IS NULL

-- Ended episodes some recipient was told about (or had held by quiet time) and not yet told
-- ended: their resolved notices are due.
SELECT episode_id, kind, subject, opened_at, fired_at, last_seen_at, cleared_at
FROM alert_episodes e
WHERE cleared_at IS NOT NULL AND EXISTS (
    SELECT 1 FROM alert_notifications n
    WHERE n.episode_id = e.episode_id AND n.resolved_sent_at IS NULL
      AND (n.firing_sent_at IS NOT NULL OR n.held_at IS NOT NULL))
ORDER BY cleared_at, episode_id

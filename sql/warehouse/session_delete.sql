-- Drops the session rows of the affected users from their starting points on. The affected
-- users drive the lookup (CROSS JOIN keeps SQLite from scanning every session).
DELETE FROM sessions WHERE session_id IN (
    SELECT s.session_id
    FROM affected_users a CROSS JOIN sessions s
    WHERE s.user_key = a.user_key
      AND s.started_at >= a.from_at
      AND (s.started_at > a.from_at OR s.session_id >= a.from_id))

-- Drops the session rows of the affected users from their starting points on.
DELETE FROM sessions WHERE EXISTS (
    SELECT 1 FROM affected_users a
    WHERE a.user_key = sessions.user_key
      AND (sessions.started_at > a.from_at
           OR (sessions.started_at = a.from_at AND sessions.session_id >= a.from_id)))

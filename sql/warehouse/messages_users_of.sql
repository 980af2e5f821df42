-- The user key, time and inclusion of the listed messages (to recompute their users'
-- sessions after marks); a listed id that is not stored has no row.
WITH wanted (id) AS ({{values}})
SELECT m.message_id, m.user_key, m.created_at, m.included
FROM wanted w
JOIN messages m ON m.message_id = w.id

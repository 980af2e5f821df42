-- For each affected user (the scratch table affected_users: the first changed position), the
-- stored session of the user's included message just before that position: its start and id,
-- NULL when there is none. transform::sessions::restart_point decides from it where the
-- user's sessions are recomputed from. The `created_at <=` bound lets the index
-- (user_key, created_at, message_id) find that message directly.
SELECT a.user_key, a.from_at, a.from_id,
    (SELECT m.session_start FROM messages m
     WHERE m.user_key = a.user_key AND m.included AND m.session_id IS NOT NULL
       AND m.created_at <= a.from_at
       AND (m.created_at < a.from_at OR m.message_id < a.from_id)
     ORDER BY m.created_at DESC, m.message_id DESC
     LIMIT 1) AS previous_start,
    (SELECT m.session_id FROM messages m
     WHERE m.user_key = a.user_key AND m.included AND m.session_id IS NOT NULL
       AND m.created_at <= a.from_at
       AND (m.created_at < a.from_at OR m.message_id < a.from_id)
     ORDER BY m.created_at DESC, m.message_id DESC
     LIMIT 1) AS previous_id
FROM affected_users a

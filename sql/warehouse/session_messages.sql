-- The included messages of the affected users from their restart points on (the scratch table
-- affected_users, see transform::sessions::restart_point), with their stored session columns
-- and current operator marks (the view current_marks): the input of transform::derive. The
-- affected users drive the lookup through messages_user_time_idx (CROSS JOIN fixes SQLite's
-- join order).
SELECT m.message_id, m.user_key, m.created_at, m.state, m.kb_hit, m.transfer,
       m.session_id AS old_session_id, m.session_start AS old_session_start,
       m.session_date AS old_session_date,
       km.value AS kb_mark,
       mm.value AS manual_mark
FROM affected_users a CROSS JOIN messages m
LEFT JOIN current_marks km ON km.message_id = m.message_id AND km.field = 'kb_hit'
LEFT JOIN current_marks mm ON mm.message_id = m.message_id AND mm.field = 'manual'
WHERE m.user_key = a.user_key
  AND m.included
  AND m.created_at >= a.from_at
  AND (m.created_at > a.from_at OR m.message_id >= a.from_id)

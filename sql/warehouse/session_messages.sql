-- The included messages of the affected users from their starting points on, with their
-- current operator marks (per field the latest by marked_at, then mark_id). The affected users
-- drive the lookup through messages_user_time_idx (CROSS JOIN fixes SQLite's join order).
SELECT m.message_id, m.user_key, m.created_at, m.state, m.kb_hit, m.transfer,
       m.session_id AS old_session_id,
       (SELECT k.value FROM marks k WHERE k.message_id = m.message_id AND k.field = 'kb_hit'
        ORDER BY k.marked_at DESC, k.mark_id DESC LIMIT 1) AS kb_mark,
       (SELECT k.value FROM marks k WHERE k.message_id = m.message_id AND k.field = 'manual'
        ORDER BY k.marked_at DESC, k.mark_id DESC LIMIT 1) AS manual_mark
FROM affected_users a CROSS JOIN messages m
WHERE m.user_key = a.user_key
  AND m.included
  AND m.created_at >= a.from_at
  AND (m.created_at > a.from_at OR m.message_id >= a.from_id)

-- The included messages of the affected users from their starting points on, with their
-- current operator marks (the latest mark of each field).
SELECT m.message_id, m.user_key, m.created_at, m.state, m.kb_hit, m.transfer,
       m.session_id AS old_session_id,
       (SELECT k.value FROM marks k WHERE k.message_id = m.message_id AND k.field = 'kb_hit'
        ORDER BY k.mark_id DESC LIMIT 1) AS kb_mark,
       (SELECT k.value FROM marks k WHERE k.message_id = m.message_id AND k.field = 'manual'
        ORDER BY k.mark_id DESC LIMIT 1) AS manual_mark
FROM messages m
JOIN affected_users a ON a.user_key = m.user_key
WHERE m.included
  AND (m.created_at > a.from_at OR (m.created_at = a.from_at AND m.message_id >= a.from_id))

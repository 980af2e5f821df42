-- Included messages dated in [$1, $2], or belonging to a session that starts in it, with
-- their current operator marks (per field the latest by marked_at, then mark_id) and feedback:
-- the input of the KPIs.
SELECT m.message_id, m.user_key, m.local_date, m.session_id, m.session_start, m.session_date,
       m.created_at, m.state, m.kb_hit, m.transfer,
       (SELECT k.value FROM marks k WHERE k.message_id = m.message_id AND k.field = 'kb_hit'
        ORDER BY k.marked_at DESC, k.mark_id DESC LIMIT 1) AS kb_mark,
       (SELECT k.value FROM marks k WHERE k.message_id = m.message_id AND k.field = 'manual'
        ORDER BY k.marked_at DESC, k.mark_id DESC LIMIT 1) AS manual_mark,
       m.message_tokens + m.answer_tokens AS tokens,
       m.latency_s,
       EXISTS (SELECT 1 FROM feedbacks f WHERE f.message_id = m.message_id AND f.rating = 'like') AS has_like,
       EXISTS (SELECT 1 FROM feedbacks f WHERE f.message_id = m.message_id AND f.rating = 'dislike') AS has_dislike
FROM messages m
WHERE m.included
  AND ((m.local_date >= $1 AND m.local_date <= $2)
       OR (m.session_date >= $1 AND m.session_date <= $2))

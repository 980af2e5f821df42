-- Included messages dated in [$1, $2] with what the detail sheets show: their text, current
-- marks (per field the latest by marked_at, then mark_id) and who set the manual one, and
-- feedback. Oldest first.
SELECT m.message_id, m.created_at, m.local_time, m.user_key, m.question, m.answer, m.state,
       m.kb_hit, m.transfer, m.latency_s, m.session_id,
       (SELECT k.value FROM marks k WHERE k.message_id = m.message_id AND k.field = 'kb_hit'
        ORDER BY k.marked_at DESC, k.mark_id DESC LIMIT 1) AS kb_mark,
       (SELECT k.value FROM marks k WHERE k.message_id = m.message_id AND k.field = 'manual'
        ORDER BY k.marked_at DESC, k.mark_id DESC LIMIT 1) AS manual_mark,
       (SELECT k.operator FROM marks k WHERE k.message_id = m.message_id AND k.field = 'manual'
        ORDER BY k.marked_at DESC, k.mark_id DESC LIMIT 1) AS manual_operator,
       EXISTS (SELECT 1 FROM feedbacks f WHERE f.message_id = m.message_id AND f.rating = 'like') AS has_like,
       EXISTS (SELECT 1 FROM feedbacks f WHERE f.message_id = m.message_id AND f.rating = 'dislike') AS has_dislike
FROM messages m
WHERE m.included AND m.local_date >= $1 AND m.local_date <= $2
ORDER BY m.created_at, m.message_id

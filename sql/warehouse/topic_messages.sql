-- The input of topics' numbers (transform::topics): included messages dated in [$1, $2], of
-- every state, with the rule's verdicts, the current kb mark (the view current_marks) and
-- feedback, and no answer text (docs/performance.md, "Reports and operator commands").
-- `has_like`/`has_dislike` are the rule transform::kpi::has_rating as SQL, as in
-- report_messages.sql.
SELECT m.message_id, m.local_time, m.user_key, m.question, m.state, m.kb_hit, m.transfer,
       m.session_id,
       km.value AS kb_mark,
       EXISTS (SELECT 1 FROM feedbacks f WHERE f.message_id = m.message_id AND f.rating = 'like') AS has_like,
       EXISTS (SELECT 1 FROM feedbacks f WHERE f.message_id = m.message_id AND f.rating = 'dislike') AS has_dislike
FROM messages m
LEFT JOIN current_marks km ON km.message_id = m.message_id AND km.field = 'kb_hit'
WHERE m.included AND m.local_date >= $1 AND m.local_date <= $2
ORDER BY m.created_at, m.message_id

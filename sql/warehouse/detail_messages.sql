-- Included messages dated in [$1, $2] with what the detail sheets show: their question, the
-- length of their answer (the Messages sheet reads the answers themselves a block at a time,
-- answers_of.sql, so a month's answers are never all in memory), current marks (the view
-- current_marks) and who set the manual one, and feedback. Oldest first.
-- `has_like`/`has_dislike` are the rule transform::kpi::has_rating as SQL; the test
-- `report_rows_follow_the_token_and_feedback_rules` checks they agree.
SELECT m.message_id, m.local_time, m.user_key, m.question, m.state, m.created_at,
       CAST(LENGTH(m.answer) AS BIGINT) AS answer_chars,
       m.kb_hit, m.transfer, m.latency_s, m.session_id,
       km.value AS kb_mark,
       mm.value AS manual_mark,
       mm.operator AS manual_operator,
       EXISTS (SELECT 1 FROM feedbacks f WHERE f.message_id = m.message_id AND f.rating = 'like') AS has_like,
       EXISTS (SELECT 1 FROM feedbacks f WHERE f.message_id = m.message_id AND f.rating = 'dislike') AS has_dislike
FROM messages m
LEFT JOIN current_marks km ON km.message_id = m.message_id AND km.field = 'kb_hit'
LEFT JOIN current_marks mm ON mm.message_id = m.message_id AND mm.field = 'manual'
WHERE m.included AND m.local_date >= $1 AND m.local_date <= $2
ORDER BY m.created_at, m.message_id

-- Included messages dated in [$1, $2], or belonging to a session that starts in it, with
-- their current operator marks (the view current_marks) and feedback:
-- the input of the KPIs.
-- `tokens` and `has_like`/`has_dislike` are the rules transform::kpi::{message_tokens, has_rating}
-- as SQL; the test `report_rows_follow_the_token_and_feedback_rules` checks they agree.
SELECT m.message_id, m.user_key, m.local_date, m.session_id, m.session_start, m.session_date,
       m.created_at, m.state, m.kb_hit, m.transfer,
       km.value AS kb_mark,
       mm.value AS manual_mark,
       m.message_tokens + m.answer_tokens AS tokens,
       m.latency_s,
       EXISTS (SELECT 1 FROM feedbacks f WHERE f.message_id = m.message_id AND f.rating = 'like') AS has_like,
       EXISTS (SELECT 1 FROM feedbacks f WHERE f.message_id = m.message_id AND f.rating = 'dislike') AS has_dislike
FROM messages m
LEFT JOIN current_marks km ON km.message_id = m.message_id AND km.field = 'kb_hit'
LEFT JOIN current_marks mm ON mm.message_id = m.message_id AND mm.field = 'manual'
WHERE m.included
  AND ((m.local_date >= $1 AND m.local_date <= $2)
       OR (m.session_date >= $1 AND m.session_date <= $2))

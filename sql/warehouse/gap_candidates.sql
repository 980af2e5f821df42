-- The candidates of knowledge gaps: included answered messages dated in [$1, $2] with what the
-- unanswered rule (transform::marks::{effective, is_unhit}, applied by gaps::unanswered) reads
-- of them, the rule's verdict and the current kb mark (the view current_marks), and no answer
-- text: gaps group questions, and two months of answers were most of a month report's memory
-- (docs/performance.md, "Reports and operator commands").
SELECT m.message_id, m.local_time, m.user_key, m.question, m.state, m.kb_hit,
       km.value AS kb_mark
FROM messages m
LEFT JOIN current_marks km ON km.message_id = m.message_id AND km.field = 'kb_hit'
WHERE m.included AND m.state = 'answered' AND m.local_date >= $1 AND m.local_date <= $2
ORDER BY m.created_at, m.message_id

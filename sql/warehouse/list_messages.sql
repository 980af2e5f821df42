-- `itstat messages`: included messages created in [$1, $2) (UTC), optionally of one user ($3)
-- and containing a text in question or answer ($4, a lowercase LIKE pattern), with their
-- effective flags (the current marks of the view current_marks over the rule's verdicts,
-- docs/metrics.md §2: an operator's kb verdict overrides the rule, a hit needs an answered
-- message, manual is the current manual mark); then only the unanswered ones (an answered
-- miss) when $5, the transfers when $6, the manual ones when $7; the newest $8 of them, newest
-- first. transform::marks::{effective, is_unhit} is the same rule for one message; the test
-- `listed_flags_follow_the_marks_rule` (tests/it/operators.rs) checks that both agree.
SELECT message_id, created_at, local_time, user_key, question, answer, state, kb_hit, transfer,
       manual, session_id
FROM (
    SELECT m.message_id, m.created_at, m.local_time, m.user_key, m.question, m.answer, m.state,
           (m.state = 'answered' AND COALESCE(km.value, m.kb_hit)) AS kb_hit,
           m.transfer,
           COALESCE(mm.value, FALSE) AS manual,
           m.session_id
    FROM messages m
    LEFT JOIN current_marks km ON km.message_id = m.message_id AND km.field = 'kb_hit'
    LEFT JOIN current_marks mm ON mm.message_id = m.message_id AND mm.field = 'manual'
    WHERE m.included AND m.created_at >= $1 AND m.created_at < $2
      AND ($3 IS NULL OR m.user_key = $3)
      AND ($4 IS NULL OR LOWER(m.question) LIKE $4 ESCAPE '\' OR LOWER(m.answer) LIKE $4 ESCAPE '\')
) listed
WHERE (NOT $5 OR (state = 'answered' AND NOT kb_hit))
  AND (NOT $6 OR transfer)
  AND (NOT $7 OR manual)
ORDER BY created_at DESC, message_id DESC
LIMIT $8

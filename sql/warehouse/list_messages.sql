-- Included messages created in [$1, $2) (UTC), optionally of one user ($3) and containing a
-- text in question or answer ($4, a lowercase LIKE pattern), newest first, with current marks
-- (the view current_marks).
SELECT m.message_id, m.created_at, m.local_time, m.user_key, m.question, m.answer, m.state,
       m.kb_hit, m.transfer, m.session_id,
       km.value AS kb_mark,
       mm.value AS manual_mark
FROM messages m
LEFT JOIN current_marks km ON km.message_id = m.message_id AND km.field = 'kb_hit'
LEFT JOIN current_marks mm ON mm.message_id = m.message_id AND mm.field = 'manual'
WHERE m.included AND m.created_at >= $1 AND m.created_at < $2
  AND ($3 IS NULL OR m.user_key = $3)
  AND ($4 IS NULL OR LOWER(m.question) LIKE $4 ESCAPE '\' OR LOWER(m.answer) LIKE $4 ESCAPE '\')
ORDER BY m.created_at DESC, m.message_id DESC

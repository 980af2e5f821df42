-- Included messages created in [$1, $2) (UTC), optionally of one user ($3) and containing a
-- text in question or answer ($4, a lowercase LIKE pattern), newest first, with current marks
-- (per field the latest by marked_at, then mark_id: a migration run late must not override
-- newer marks).
SELECT m.message_id, m.created_at, m.local_time, m.user_key, m.question, m.answer, m.state,
       m.kb_hit, m.transfer, m.session_id,
       (SELECT k.value FROM marks k WHERE k.message_id = m.message_id AND k.field = 'kb_hit'
        ORDER BY k.marked_at DESC, k.mark_id DESC LIMIT 1) AS kb_mark,
       (SELECT k.value FROM marks k WHERE k.message_id = m.message_id AND k.field = 'manual'
        ORDER BY k.marked_at DESC, k.mark_id DESC LIMIT 1) AS manual_mark
FROM messages m
WHERE m.included AND m.created_at >= $1 AND m.created_at < $2
  AND ($3 IS NULL OR m.user_key = $3)
  AND ($4 IS NULL OR LOWER(m.question) LIKE $4 ESCAPE '\' OR LOWER(m.answer) LIKE $4 ESCAPE '\')
ORDER BY m.created_at DESC, m.message_id DESC

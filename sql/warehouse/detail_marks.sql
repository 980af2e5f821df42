-- The current marks (per message and field the latest by marked_at, then mark_id) of included
-- messages dated in [$1, $2].
SELECT k.message_id, k.field, k.value, k.operator, k.note, k.marked_at, m.user_key, m.question
FROM marks k
JOIN messages m ON m.message_id = k.message_id
WHERE m.included AND m.local_date >= $1 AND m.local_date <= $2
  AND k.mark_id = (SELECT k2.mark_id FROM marks k2
                   WHERE k2.message_id = k.message_id AND k2.field = k.field
                   ORDER BY k2.marked_at DESC, k2.mark_id DESC LIMIT 1)
ORDER BY k.marked_at, k.mark_id

-- The current marks (the view current_marks) of included messages dated in [$1, $2].
SELECT k.message_id, k.field, k.value, k.operator, k.note, k.marked_at, m.user_key, m.question
FROM current_marks k
JOIN messages m ON m.message_id = k.message_id
WHERE m.included AND m.local_date >= $1 AND m.local_date <= $2
ORDER BY k.marked_at, k.mark_id

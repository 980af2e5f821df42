-- Every mark of a message, oldest first.
SELECT mark_id, message_id, field, value, operator, note, marked_at, source
FROM marks WHERE message_id = $1 ORDER BY mark_id

-- The current marks of one message (the view current_marks): at most one per field.
SELECT mark_id, message_id, field, value, operator, note, marked_at, source
FROM current_marks WHERE message_id = $1

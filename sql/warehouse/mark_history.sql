-- Every mark of a message in the order they take effect: by marked_at, then mark_id (the last
-- of a field is its current value).
SELECT mark_id, message_id, field, value, operator, note, marked_at, source
FROM marks WHERE message_id = $1 ORDER BY marked_at, mark_id

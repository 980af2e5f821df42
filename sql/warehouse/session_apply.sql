-- Writes the recomputed session of each message listed in session_assign.
UPDATE messages SET
    session_id = s.session_id,
    session_start = s.session_start,
    session_date = s.session_date
FROM session_assign s
WHERE messages.message_id = s.message_id

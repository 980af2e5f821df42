-- Drops a feedback row that was withdrawn in Dify.
DELETE FROM feedbacks WHERE message_id = $1 AND from_source = $2

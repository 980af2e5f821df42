-- The feedback of one message.
SELECT from_source, rating, content FROM feedbacks WHERE message_id = $1 ORDER BY from_source

-- The answers of the listed messages (the Messages sheet's text, a block at a time).
SELECT message_id, answer FROM messages WHERE message_id IN ({{values}})

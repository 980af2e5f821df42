-- Message ids starting with a prefix ($1, lowercase; $2 its length), at most 11 of them.
SELECT message_id FROM messages WHERE substr(message_id, 1, CAST($2 AS INTEGER)) = $1 ORDER BY message_id LIMIT 11

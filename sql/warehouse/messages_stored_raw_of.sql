-- Stored messages in the shape Dify gave them, for the rows a reclassification found with
-- changed verdicts (warehouse/verdicts.rs), with what the comparison needs of the stored row
-- (content_hash, user_key, included). {{columns}}: the select list, built from the declared
-- columns (warehouse/messages.rs). The caller appends the id list: `($1, $2, …)`.
SELECT {{columns}}
FROM messages
WHERE message_id IN 
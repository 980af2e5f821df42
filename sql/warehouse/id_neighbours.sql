-- For each listed message id, the stored ids just before and just after it in key order: the
-- shortest prefix that names only it is one character longer than the longest it shares with
-- either (docs/warehouse.md, "Operator commands"). Two index seeks per id.
WITH listed (id) AS ({{values}})
SELECT l.id AS message_id,
       (SELECT p.message_id FROM messages p WHERE p.message_id < l.id
        ORDER BY p.message_id DESC LIMIT 1) AS before_id,
       (SELECT n.message_id FROM messages n WHERE n.message_id > l.id
        ORDER BY n.message_id LIMIT 1) AS after_id
FROM listed l

-- Marks of some messages in the order they take effect (the caller keeps the last per field):
-- the id list and `ORDER BY k.marked_at, k.mark_id` follow.
SELECT k.message_id, k.field, k.value FROM marks k WHERE k.message_id IN 

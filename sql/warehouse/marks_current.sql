-- Marks of some messages, oldest first (the caller keeps the latest per field); the id list
-- follows.
SELECT k.message_id, k.field, k.value FROM marks k WHERE k.message_id IN 

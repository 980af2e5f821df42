-- The current marks (the view current_marks) of some messages: the id list follows.
SELECT k.message_id, k.field, k.value FROM current_marks k WHERE k.message_id IN 

SELECT message_id, content_hash, user_key, created_at, included FROM messages WHERE message_id IN 

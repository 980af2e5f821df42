-- The newest Dify created_at the warehouse holds.
SELECT MAX(created_at) FROM messages

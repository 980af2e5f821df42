-- The oldest Dify created_at the warehouse holds (check: a day before the data).
SELECT MIN(created_at) FROM messages

-- The newest Dify created_at of an included message (no_traffic: console tests and excluded
-- users are not traffic).
SELECT MAX(created_at) FROM messages WHERE included

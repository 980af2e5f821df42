-- Makes a topic titled by its most asked question (`question`) or by the chat model (`chat`)
-- (docs/topics.md, "Titles").
INSERT INTO topics (title, title_source, first_seen, created_at) VALUES ($1, $4, $2, $3)
RETURNING topic_id

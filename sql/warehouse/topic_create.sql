-- Makes a topic titled by its most asked question (docs/topics.md, "Stored topics").
INSERT INTO topics (title, title_source, first_seen, created_at) VALUES ($1, 'question', $2, $3)
RETURNING topic_id

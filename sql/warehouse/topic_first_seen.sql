-- Moves a topic's first message back to $1 when $1 is earlier.
UPDATE topics SET first_seen = $1 WHERE topic_id = $2 AND first_seen > $1

-- An operator's title for a topic (`itstat topics rename`).
UPDATE topics SET title = $1, title_source = 'operator' WHERE topic_id = $2

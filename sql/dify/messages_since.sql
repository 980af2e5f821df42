-- Messages of the selected apps created at or after $1 (all history when $1 is NULL), oldest
-- first with the id as the tiebreak, so a batch border never depends on the reading order.
-- $2: app ids as text; an empty array selects every app.
SELECT
{{columns}}
FROM messages m
LEFT JOIN end_users eu ON eu.id = m.from_end_user_id
LEFT JOIN accounts acc ON acc.id = m.from_account_id
LEFT JOIN conversations c ON c.id = m.conversation_id
WHERE ($1::timestamp IS NULL OR m.created_at >= $1::timestamp)
  AND (cardinality($2::text[]) = 0 OR m.app_id = ANY ($2::text[]::uuid[]))
ORDER BY m.created_at, m.id

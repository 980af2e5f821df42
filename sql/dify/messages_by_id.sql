-- Messages re-read by id: the ones still pending in the warehouse (blank answer) that are
-- older than the look-back window. $1: message ids as text.
SELECT
{{columns}}
FROM messages m
LEFT JOIN end_users eu ON eu.id = m.from_end_user_id
LEFT JOIN accounts acc ON acc.id = m.from_account_id
LEFT JOIN conversations c ON c.id = m.conversation_id
WHERE m.id = ANY ($1::text[]::uuid[])
ORDER BY m.created_at, m.id

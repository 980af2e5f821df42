-- Appends one operator mark (marks are never updated or deleted).
INSERT INTO marks (message_id, field, value, operator, note, marked_at, source)
VALUES ($1, $2, $3, $4, $5, $6, $7)

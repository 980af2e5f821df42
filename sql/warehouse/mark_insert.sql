-- Appends operator marks, one values tuple per mark (marks are never updated or deleted).
INSERT INTO marks (message_id, field, value, operator, note, marked_at, source)
{{values}}

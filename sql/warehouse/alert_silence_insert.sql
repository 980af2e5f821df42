-- A new silence (`itstat alerts silence`).
INSERT INTO alert_silences (kind, subject, starts_at, ends_at, reason, created_by)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING silence_id

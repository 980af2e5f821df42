-- One silence by id (`itstat alerts expire`).
SELECT silence_id, kind, subject, starts_at, ends_at, reason, created_by, expired_at
FROM alert_silences WHERE silence_id = $1

-- The silences in force at a time, in the order they were made.
SELECT silence_id, kind, subject, starts_at, ends_at, reason, created_by, expired_at
FROM alert_silences
WHERE starts_at <= $1 AND ends_at > $1 AND (expired_at IS NULL OR expired_at > $1)
ORDER BY silence_id

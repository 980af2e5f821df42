-- Whether this exact mark is already recorded (keeps migrations from the legacy platform
-- idempotent); at any time when $7 (the legacy row had no time, so its date may have changed).
SELECT COUNT(*) FROM marks
WHERE message_id = $1 AND field = $2 AND ((value IS NULL AND $3 IS NULL) OR value = $3)
  AND operator = $4 AND ($7 OR marked_at = $5) AND source = $6

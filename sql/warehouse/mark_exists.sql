-- Whether this exact mark is already recorded (keeps migrations from the legacy platform
-- idempotent).
SELECT COUNT(*) FROM marks
WHERE message_id = $1 AND field = $2 AND ((value IS NULL AND $3 IS NULL) OR value = $3)
  AND operator = $4 AND marked_at = $5 AND source = $6

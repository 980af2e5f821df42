-- Ends a silence now (`itstat alerts expire`).
UPDATE alert_silences SET expired_at = $2 WHERE silence_id = $1

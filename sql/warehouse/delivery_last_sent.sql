-- When mail of this kind (any period) was last sent to this recipient, if ever.
SELECT MAX(attempted_at) FROM deliveries
WHERE report_kind = $1 AND recipient = $2 AND status = 'sent'

-- When mail of this kind (any period) was last sent to this recipient, if ever (addresses
-- compared without case, as in delivery_sent.sql).
SELECT MAX(attempted_at) FROM deliveries
WHERE report_kind = $1 AND lower(recipient) = lower($2) AND status = 'sent'

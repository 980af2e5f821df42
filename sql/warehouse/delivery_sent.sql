-- When this report for this period was last sent to this recipient, if ever.
SELECT MAX(attempted_at) FROM deliveries
WHERE report_kind = $1 AND period_label = $2 AND recipient = $3 AND status = 'sent'

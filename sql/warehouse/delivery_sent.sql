-- When this report for this period was last sent to this recipient, if ever. Addresses are
-- compared without case: Boss@Example.com and boss@example.com reach one mailbox.
SELECT MAX(attempted_at) FROM deliveries
WHERE report_kind = $1 AND period_label = $2 AND lower(recipient) = lower($3) AND status = 'sent'

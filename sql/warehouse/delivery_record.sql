-- Records one delivery attempt to one recipient.
INSERT INTO deliveries (report_kind, period_label, recipient, subject, attachment, status, error, attempted_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)

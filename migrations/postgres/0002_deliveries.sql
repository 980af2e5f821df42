-- The delivery log: which report for which period went to whom, so a re-run never mails the
-- same report twice (unless `--force`). One row per recipient and attempt.
CREATE TABLE deliveries (
    delivery_id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_kind   TEXT COLLATE "C" NOT NULL,
    period_label  TEXT COLLATE "C" NOT NULL,
    recipient     TEXT NOT NULL,
    subject       TEXT NOT NULL,
    attachment    TEXT,
    status        TEXT NOT NULL,
    error         TEXT,
    attempted_at  TIMESTAMP NOT NULL
);
CREATE INDEX deliveries_lookup_idx ON deliveries (report_kind, period_label, recipient, status);

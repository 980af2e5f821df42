-- The habits of `itstat check` (docs/alerts.md): `for`, resolved notices, quiet hours held,
-- silences. An episode now opens at the first check that sees its condition (any check but
-- `--dry-run`) and fires once it has held for `[alerts] for` (`fired_at`; earlier episodes
-- fired when they opened). What each recipient was told about each episode is kept in
-- `alert_notifications`, written in the transaction that records the post or mail in
-- `deliveries`; it starts from the delivery log of the per-episode notifications before, and
-- episodes already closed count as told (no resolved notice for them after the upgrade).
ALTER TABLE alert_episodes ADD COLUMN fired_at TIMESTAMP;
UPDATE alert_episodes SET fired_at = opened_at;

CREATE TABLE alert_notifications (
    episode_id        BIGINT NOT NULL,
    recipient         TEXT NOT NULL,
    firing_sent_at    TIMESTAMP,
    held_at           TIMESTAMP,
    resolved_sent_at  TIMESTAMP,
    PRIMARY KEY (episode_id, recipient)
);
INSERT INTO alert_notifications (episode_id, recipient, firing_sent_at, resolved_sent_at)
SELECT e.episode_id, d.recipient, MAX(d.attempted_at), MAX(e.cleared_at)
FROM deliveries d JOIN alert_episodes e ON d.period_label = 'episode ' || e.episode_id
WHERE d.report_kind = 'alert:' || e.kind AND d.status = 'sent'
GROUP BY e.episode_id, d.recipient;

-- `itstat alerts silence`: alerts of a kind (about one subject, or any when NULL) are not
-- sent from `starts_at` to `ends_at`, or to `expired_at` when `itstat alerts expire` ended it
-- earlier.
CREATE TABLE alert_silences (
    silence_id  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT COLLATE "C" NOT NULL,
    subject     TEXT COLLATE "C",
    starts_at   TIMESTAMP NOT NULL,
    ends_at     TIMESTAMP NOT NULL,
    reason      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    expired_at  TIMESTAMP
);

-- Alert episodes of `itstat check --notify` (docs/alerts.md): an alert of one kind about one
-- subject (the user key of one_user_key, else '') that keeps firing is one episode, notified
-- once and again only after `[alerts] repeat`. `cleared_at` is set by the first check that
-- finds it quiet; the next firing opens a new episode. The notifications themselves are in
-- `deliveries` (report_kind `alert:<kind>`).
CREATE TABLE alert_episodes (
    episode_id    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          TEXT COLLATE "C" NOT NULL,
    subject       TEXT COLLATE "C" NOT NULL,
    opened_at     TIMESTAMP NOT NULL,
    last_seen_at  TIMESTAMP NOT NULL,
    cleared_at    TIMESTAMP
);
CREATE INDEX alert_episodes_open_idx ON alert_episodes (kind, subject, cleared_at);

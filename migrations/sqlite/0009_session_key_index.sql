-- sessions' key moves from the table's PRIMARY KEY to a unique index of its own,
-- sessions_session_id_key, as messages' did in 0005. Session ids are the ids of their first
-- messages (random UUIDs), so every batch of a first full load upserted its sessions into
-- random pages of SQLite's undroppable key index: at 1,000,000 messages the whole index was
-- copied into the WAL every batch (docs/performance.md). A unique index can be dropped with
-- messages' key and built once at the load's end (sql/warehouse/sqlite/keys_*.sql); the
-- load writes session rows by rowid meanwhile. Same columns, same order, same rows.
CREATE TABLE sessions_keyed (
    session_id         TEXT NOT NULL,
    user_key           TEXT NOT NULL,
    started_at         TEXT NOT NULL,
    ended_at           TEXT NOT NULL,
    local_date         TEXT NOT NULL,
    messages           INTEGER NOT NULL,
    answered           INTEGER NOT NULL,
    errors             INTEGER NOT NULL,
    pending            INTEGER NOT NULL,
    kb_hits            INTEGER NOT NULL,
    transfer_messages  INTEGER NOT NULL,
    manual_messages    INTEGER NOT NULL,
    is_transfer        INTEGER NOT NULL,
    is_manual          INTEGER NOT NULL,
    is_self_resolved   INTEGER NOT NULL
);
INSERT INTO sessions_keyed SELECT * FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_keyed RENAME TO sessions;
CREATE UNIQUE INDEX sessions_session_id_key ON sessions (session_id);
CREATE INDEX sessions_local_date_idx ON sessions (local_date);
CREATE INDEX sessions_user_idx ON sessions (user_key, started_at, session_id);

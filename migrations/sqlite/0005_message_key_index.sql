-- messages' key moves from the table's PRIMARY KEY to a unique index of its own,
-- messages_message_id_key. SQLite keeps a PRIMARY KEY on a text column as an index that
-- cannot be dropped, so every batch of a first full load inserted its random UUIDs into it;
-- a unique index can be dropped with the secondary ones and built once at the load's end
-- (sql/warehouse/sqlite/message_key_*.sql). Same columns, same order, same rows.
CREATE TABLE messages_keyed (
    message_id           TEXT NOT NULL,
    app_id               TEXT NOT NULL,
    conversation_id      TEXT NOT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT,
    local_time           TEXT NOT NULL,
    local_date           TEXT NOT NULL,
    user_key             TEXT NOT NULL,
    query                TEXT NOT NULL,
    question             TEXT NOT NULL,
    answer               TEXT NOT NULL,
    status               TEXT NOT NULL,
    error                TEXT,
    state                TEXT NOT NULL,
    kb_hit               INTEGER NOT NULL,
    transfer             INTEGER NOT NULL,
    included             INTEGER NOT NULL,
    invoke_from          TEXT,
    from_source          TEXT NOT NULL,
    from_end_user_id     TEXT,
    from_account_id      TEXT,
    end_user_session_id  TEXT,
    account_email        TEXT,
    inputs               TEXT,
    message_tokens       INTEGER NOT NULL,
    answer_tokens        INTEGER NOT NULL,
    latency_s            REAL NOT NULL,
    total_price          REAL,
    currency             TEXT,
    parent_message_id    TEXT,
    app_mode             TEXT,
    conversation_name    TEXT,
    conversation_deleted INTEGER,
    session_id           TEXT,
    session_start        TEXT,
    session_date         TEXT,
    content_hash         INTEGER NOT NULL,
    first_seen_at        TEXT NOT NULL
);
INSERT INTO messages_keyed SELECT * FROM messages;
DROP TABLE messages;
ALTER TABLE messages_keyed RENAME TO messages;
CREATE UNIQUE INDEX messages_message_id_key ON messages (message_id);
CREATE INDEX messages_local_date_idx ON messages (local_date);
CREATE INDEX messages_session_date_idx ON messages (session_date);
CREATE INDEX messages_user_time_idx ON messages (user_key, created_at, message_id);
CREATE INDEX messages_created_at_idx ON messages (created_at, message_id);
CREATE INDEX messages_pending_idx ON messages (created_at) WHERE state = 'pending';

-- itstat warehouse schema, SQLite flavour. Documented column by column in docs/warehouse.md;
-- migrations/postgres/0001_init.sql is the same schema with PostgreSQL types.

-- One row per Dify message of the selected apps. Never deleted because Dify lost the row.
CREATE TABLE messages (
    message_id           TEXT PRIMARY KEY,
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
CREATE INDEX messages_local_date_idx ON messages (local_date);
CREATE INDEX messages_session_date_idx ON messages (session_date);
CREATE INDEX messages_user_time_idx ON messages (user_key, created_at, message_id);
CREATE INDEX messages_created_at_idx ON messages (created_at, message_id);
CREATE INDEX messages_pending_idx ON messages (created_at) WHERE state = 'pending';
CREATE INDEX messages_session_idx ON messages (session_id);

-- One row per bot session (metrics.md §3), rebuilt by ingest for the users it touches.
CREATE TABLE sessions (
    session_id         TEXT PRIMARY KEY,
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
CREATE INDEX sessions_local_date_idx ON sessions (local_date);
CREATE INDEX sessions_user_idx ON sessions (user_key, started_at, session_id);

-- Dify's current feedback (message_feedbacks), at most one row per message and source.
CREATE TABLE feedbacks (
    message_id   TEXT NOT NULL,
    from_source  TEXT NOT NULL,
    rating       TEXT NOT NULL,
    content      TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT,
    PRIMARY KEY (message_id, from_source)
);

-- Operator marks, append-only history. The current value of a field is its latest row.
CREATE TABLE marks (
    mark_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id  TEXT NOT NULL,
    field       TEXT NOT NULL,
    value       INTEGER,
    operator    TEXT NOT NULL,
    note        TEXT,
    marked_at   TEXT NOT NULL,
    source      TEXT NOT NULL
);
CREATE INDEX marks_message_idx ON marks (message_id, field, mark_id);

-- Consultations handled outside the bot, imported by operators.
CREATE TABLE manual_entries (
    entry_id             INTEGER PRIMARY KEY AUTOINCREMENT,
    natural_key          TEXT NOT NULL UNIQUE,
    user_name            TEXT NOT NULL,
    query                TEXT NOT NULL,
    answer               TEXT NOT NULL,
    consultation_time    TEXT NOT NULL,
    local_date           TEXT NOT NULL,
    entry_person         TEXT,
    knowledge_hit        INTEGER NOT NULL,
    transfer_to_human    INTEGER NOT NULL,
    manual_intervention  INTEGER NOT NULL,
    operation_user       TEXT,
    imported_at          TEXT NOT NULL,
    source               TEXT NOT NULL
);
CREATE INDEX manual_entries_date_idx ON manual_entries (local_date);

-- One row per ingest run.
CREATE TABLE ingest_runs (
    run_id         INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at     TEXT NOT NULL,
    finished_at    TEXT,
    mode           TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    rows_read      INTEGER NOT NULL DEFAULT 0,
    rows_new       INTEGER NOT NULL DEFAULT 0,
    rows_changed   INTEGER NOT NULL DEFAULT 0,
    feedback_changed INTEGER NOT NULL DEFAULT 0,
    cursor_before  TEXT,
    cursor_after   TEXT,
    error          TEXT
);

-- Small key/value state: the cursor, the rules and apps the data was classified with.
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- itstat warehouse schema, PostgreSQL flavour. Documented column by column in docs/warehouse.md;
-- migrations/sqlite/0001_init.sql is the same schema with SQLite types.

-- One row per Dify message of the selected apps. Never deleted because Dify lost the row.
CREATE TABLE messages (
    message_id           TEXT COLLATE "C" PRIMARY KEY,
    app_id               TEXT COLLATE "C" NOT NULL,
    conversation_id      TEXT COLLATE "C" NOT NULL,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP,
    local_time           TIMESTAMP NOT NULL,
    local_date           DATE NOT NULL,
    user_key             TEXT COLLATE "C" NOT NULL,
    query                TEXT NOT NULL,
    question             TEXT NOT NULL,
    answer               TEXT NOT NULL,
    status               TEXT NOT NULL,
    error                TEXT,
    state                TEXT NOT NULL,
    kb_hit               BOOLEAN NOT NULL,
    transfer             BOOLEAN NOT NULL,
    included             BOOLEAN NOT NULL,
    invoke_from          TEXT,
    from_source          TEXT COLLATE "C" NOT NULL,
    from_end_user_id     TEXT,
    from_account_id      TEXT,
    end_user_session_id  TEXT,
    account_email        TEXT,
    inputs               TEXT,
    message_tokens       BIGINT NOT NULL,
    answer_tokens        BIGINT NOT NULL,
    latency_s            DOUBLE PRECISION NOT NULL,
    total_price          DOUBLE PRECISION,
    currency             TEXT,
    parent_message_id    TEXT COLLATE "C",
    app_mode             TEXT,
    conversation_name    TEXT,
    conversation_deleted BOOLEAN,
    session_id           TEXT COLLATE "C",
    session_start        TIMESTAMP,
    session_date         DATE,
    content_hash         BIGINT NOT NULL,
    first_seen_at        TIMESTAMP NOT NULL
);
CREATE INDEX messages_local_date_idx ON messages (local_date);
CREATE INDEX messages_session_date_idx ON messages (session_date);
CREATE INDEX messages_user_time_idx ON messages (user_key, created_at, message_id);
CREATE INDEX messages_created_at_idx ON messages (created_at, message_id);
CREATE INDEX messages_pending_idx ON messages (created_at) WHERE state = 'pending';
CREATE INDEX messages_session_idx ON messages (session_id);

-- One row per bot session (metrics.md §3), rebuilt by ingest for the users it touches.
CREATE TABLE sessions (
    session_id         TEXT COLLATE "C" PRIMARY KEY,
    user_key           TEXT COLLATE "C" NOT NULL,
    started_at         TIMESTAMP NOT NULL,
    ended_at           TIMESTAMP NOT NULL,
    local_date         DATE NOT NULL,
    messages           BIGINT NOT NULL,
    answered           BIGINT NOT NULL,
    errors             BIGINT NOT NULL,
    pending            BIGINT NOT NULL,
    kb_hits            BIGINT NOT NULL,
    transfer_messages  BIGINT NOT NULL,
    manual_messages    BIGINT NOT NULL,
    is_transfer        BOOLEAN NOT NULL,
    is_manual          BOOLEAN NOT NULL,
    is_self_resolved   BOOLEAN NOT NULL
);
CREATE INDEX sessions_local_date_idx ON sessions (local_date);
CREATE INDEX sessions_user_idx ON sessions (user_key, started_at, session_id);

-- Dify's current feedback (message_feedbacks), at most one row per message and source.
CREATE TABLE feedbacks (
    message_id   TEXT COLLATE "C" NOT NULL,
    from_source  TEXT COLLATE "C" NOT NULL,
    rating       TEXT NOT NULL,
    content      TEXT,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP,
    PRIMARY KEY (message_id, from_source)
);

-- Operator marks, append-only history. The current value of a field is its latest row.
CREATE TABLE marks (
    mark_id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  TEXT COLLATE "C" NOT NULL,
    field       TEXT NOT NULL,
    value       BOOLEAN,
    operator    TEXT NOT NULL,
    note        TEXT,
    marked_at   TIMESTAMP NOT NULL,
    source      TEXT NOT NULL
);
CREATE INDEX marks_message_idx ON marks (message_id, field, mark_id);

-- Consultations handled outside the bot, imported by operators.
CREATE TABLE manual_entries (
    entry_id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    natural_key          TEXT COLLATE "C" NOT NULL UNIQUE,
    user_name            TEXT NOT NULL,
    query                TEXT NOT NULL,
    answer               TEXT NOT NULL,
    consultation_time    TIMESTAMP NOT NULL,
    local_date           DATE NOT NULL,
    entry_person         TEXT,
    knowledge_hit        BOOLEAN NOT NULL,
    transfer_to_human    BOOLEAN NOT NULL,
    manual_intervention  BOOLEAN NOT NULL,
    operation_user       TEXT,
    imported_at          TIMESTAMP NOT NULL,
    source               TEXT NOT NULL
);
CREATE INDEX manual_entries_date_idx ON manual_entries (local_date);

-- One row per ingest run.
CREATE TABLE ingest_runs (
    run_id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at     TIMESTAMP NOT NULL,
    finished_at    TIMESTAMP,
    mode           TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    rows_read      BIGINT NOT NULL DEFAULT 0,
    rows_new       BIGINT NOT NULL DEFAULT 0,
    rows_changed   BIGINT NOT NULL DEFAULT 0,
    feedback_changed BIGINT NOT NULL DEFAULT 0,
    cursor_before  TIMESTAMP,
    cursor_after   TIMESTAMP,
    error          TEXT
);

-- Small key/value state: the cursor, the rules and apps the data was classified with.
CREATE TABLE meta (
    key    TEXT COLLATE "C" PRIMARY KEY,
    value  TEXT NOT NULL
);

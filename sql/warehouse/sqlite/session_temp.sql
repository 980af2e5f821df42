-- Scratch tables of the session pass, private to the connection (SQLite flavour).
CREATE TEMP TABLE IF NOT EXISTS affected_users (
    user_key TEXT PRIMARY KEY,
    from_at  TEXT NOT NULL,
    from_id  TEXT NOT NULL
);
CREATE TEMP TABLE IF NOT EXISTS session_assign (
    message_id    TEXT PRIMARY KEY,
    session_id    TEXT NOT NULL,
    session_start TEXT NOT NULL,
    session_date  TEXT NOT NULL
);
DELETE FROM affected_users;
DELETE FROM session_assign;

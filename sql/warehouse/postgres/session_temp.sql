-- Scratch tables of the session pass, private to the connection (PostgreSQL flavour).
CREATE TEMP TABLE IF NOT EXISTS affected_users (
    user_key TEXT COLLATE "C" PRIMARY KEY,
    from_at  TIMESTAMP NOT NULL,
    from_id  TEXT COLLATE "C" NOT NULL
);
CREATE TEMP TABLE IF NOT EXISTS session_assign (
    message_id    TEXT COLLATE "C" PRIMARY KEY,
    session_id    TEXT COLLATE "C" NOT NULL,
    session_start TIMESTAMP NOT NULL,
    session_date  DATE NOT NULL
);
DELETE FROM affected_users;
DELETE FROM session_assign;

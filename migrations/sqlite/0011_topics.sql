-- Topics (docs/topics.md): what employees ask about, with an id that stays from one period to
-- the next. `topic_questions` says which topic each distinct question (its wording key)
-- belongs to; a later period's questions keep it. `topic_log` records every operator's
-- rename, merge and split.
CREATE TABLE topics (
    topic_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    title         TEXT NOT NULL,
    title_source  TEXT NOT NULL,
    first_seen    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    merged_into   INTEGER
);

CREATE TABLE topic_questions (
    question_key  TEXT NOT NULL PRIMARY KEY,
    topic_id      INTEGER NOT NULL,
    question      TEXT NOT NULL,
    assigned_at   TEXT NOT NULL
);
CREATE INDEX topic_questions_topic_idx ON topic_questions (topic_id);

CREATE TABLE topic_log (
    log_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    action     TEXT NOT NULL,
    topic_id   INTEGER NOT NULL,
    other_id   INTEGER,
    name       TEXT,
    operator   TEXT NOT NULL,
    at         TEXT NOT NULL
);

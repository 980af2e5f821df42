-- Topics (docs/topics.md): what employees ask about, with an id that stays from one period to
-- the next. `topic_questions` says which topic each distinct question (its wording key)
-- belongs to; a later period's questions keep it. `topic_log` records every operator's
-- rename, merge and split.
CREATE TABLE topics (
    topic_id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title         TEXT NOT NULL,
    title_source  TEXT NOT NULL,
    first_seen    TIMESTAMP NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    merged_into   BIGINT
);

CREATE TABLE topic_questions (
    question_key  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    topic_id      BIGINT NOT NULL,
    question      TEXT NOT NULL,
    assigned_at   TIMESTAMP NOT NULL
);
CREATE INDEX topic_questions_topic_idx ON topic_questions (topic_id);

CREATE TABLE topic_log (
    log_id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action     TEXT NOT NULL,
    topic_id   BIGINT NOT NULL,
    other_id   BIGINT,
    name       TEXT,
    operator   TEXT NOT NULL,
    at         TIMESTAMP NOT NULL
);

-- Drops the keys of messages and sessions for a first full load, which inserts every message
-- once (plain INSERT, no upsert) and writes session rows by rowid, and builds the keys at its
-- end (keys_create.sql).
DROP INDEX IF EXISTS messages_message_id_key;
DROP INDEX IF EXISTS sessions_session_id_key;

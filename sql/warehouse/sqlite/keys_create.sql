-- The keys of messages and sessions in a SQLite warehouse (migrations/sqlite/0005, 0009):
-- dropped for a first full load (keys_drop.sql) and built again after its last batch, before
-- the secondary indexes; every ingest starts by running this, so a killed load gets them back.
CREATE UNIQUE INDEX IF NOT EXISTS messages_message_id_key ON messages (message_id);
CREATE UNIQUE INDEX IF NOT EXISTS sessions_session_id_key ON sessions (session_id);

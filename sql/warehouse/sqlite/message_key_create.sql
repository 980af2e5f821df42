-- The key of messages in a SQLite warehouse (migrations/sqlite/0005): dropped for a first full
-- load (message_key_drop.sql) and built again after its last batch, before the secondary
-- indexes; every ingest starts by running this, so a killed load gets it back.
CREATE UNIQUE INDEX IF NOT EXISTS messages_message_id_key ON messages (message_id);

-- Drops the key of messages for a first full load, which inserts every row once (plain
-- INSERT, no upsert) and builds the key at its end (message_key_create.sql).
DROP INDEX IF EXISTS messages_message_id_key;

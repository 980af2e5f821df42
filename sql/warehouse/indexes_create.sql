-- The secondary indexes of messages and sessions, as in migrations/*/0001_init.sql (less the
-- one 0004 dropped). A first full load drops them (indexes_drop.sql) and builds them once after
-- its last batch, which is much cheaper than updating them batch by batch; every ingest run
-- starts by running this file, so a load that was killed half-way gets them back.
CREATE INDEX IF NOT EXISTS messages_local_date_idx ON messages (local_date);
CREATE INDEX IF NOT EXISTS messages_session_date_idx ON messages (session_date);
CREATE INDEX IF NOT EXISTS messages_user_time_idx ON messages (user_key, created_at, message_id);
CREATE INDEX IF NOT EXISTS messages_created_at_idx ON messages (created_at, message_id);
CREATE INDEX IF NOT EXISTS messages_pending_idx ON messages (created_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS sessions_local_date_idx ON sessions (local_date);
CREATE INDEX IF NOT EXISTS sessions_user_idx ON sessions (user_key, started_at, session_id);

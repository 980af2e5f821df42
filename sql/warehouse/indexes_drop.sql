-- Drops the secondary indexes of messages and sessions for a first full load; see
-- indexes_create.sql, which builds them again.
DROP INDEX IF EXISTS messages_local_date_idx;
DROP INDEX IF EXISTS messages_session_date_idx;
DROP INDEX IF EXISTS messages_user_time_idx;
DROP INDEX IF EXISTS messages_created_at_idx;
DROP INDEX IF EXISTS messages_pending_idx;
DROP INDEX IF EXISTS sessions_local_date_idx;
DROP INDEX IF EXISTS sessions_user_idx;

-- messages(session_id) cost every batch a random-order index update and served only
-- `itstat messages show`, which now finds a session's messages through
-- (user_key, created_at, message_id).
DROP INDEX IF EXISTS messages_session_idx;

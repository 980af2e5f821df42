-- The rowid a first load gives its first new session row: one past the highest stored
-- (Tx::next_session_rowid; the table is empty when such a load starts).
SELECT COALESCE(MAX(rowid), 0) + 1 FROM sessions

-- The ingest lock: a session-level advisory lock, released when the connection ends.
SELECT pg_try_advisory_lock(hashtext('itstat ingest'))

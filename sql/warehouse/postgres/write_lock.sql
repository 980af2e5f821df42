-- Serialises writers: every warehouse write transaction takes this lock first, so two
-- commands that recompute the same user's sessions (ingest, mark, import) run one after the
-- other, as SQLite's single writer does. Released at commit or rollback.
SELECT pg_advisory_xact_lock(hashtext('itstat write'))

-- How many messages `messages_since.sql` returns for the same $1 and $2 (the progress of a
-- long read; docs/performance.md). Read in the same snapshot, so the figures agree.
SELECT COUNT(*)
FROM messages m
WHERE ($1::timestamp IS NULL OR m.created_at >= $1::timestamp)
  AND (cardinality($2::text[]) = 0 OR m.app_id = ANY ($2::text[]::uuid[]))

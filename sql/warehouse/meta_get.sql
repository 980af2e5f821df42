-- A value of the small key/value state table.
SELECT value FROM meta WHERE key = $1

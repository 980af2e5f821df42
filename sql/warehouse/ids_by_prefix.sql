-- The stored message ids starting with each typed prefix, at most 11 per prefix. The values
-- list is (prefix, upper): upper is the prefix with its last character incremented, so
-- "starts with" is the key range [prefix, upper), which the message key index serves (ids are
-- lowercase hex and '-', compared byte by byte: PostgreSQL's column is COLLATE "C", SQLite's
-- default collation is binary). Full-length ids are prefixes of themselves.
WITH typed (prefix, upper) AS ({{values}})
SELECT prefix, message_id
FROM (
    SELECT t.prefix, m.message_id,
           ROW_NUMBER() OVER (PARTITION BY t.prefix ORDER BY m.message_id) AS n
    FROM typed t
    JOIN messages m ON m.message_id >= t.prefix AND m.message_id < t.upper
) found
WHERE n <= 11
ORDER BY prefix, message_id

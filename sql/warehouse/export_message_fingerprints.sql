-- `itstat export`: per local date of `messages`, its row count and numbers that change when
-- anything exported for that date changes. `content_hash` covers the stored Dify fields and
-- the rules' flags; the session columns are covered by the content hash of each message's
-- session head (its id, user and start), tied to the message by the `pairs` product; the
-- current marks by their count (marks are append-only, so every new mark changes it). Hashes
-- are summed as 32-bit halves and 16-bit products so that no sum can overflow.
SELECT m.local_date,
       COUNT(*) AS row_count,
       CAST(SUM(m.content_hash / 4294967296) AS BIGINT) AS content_hi,
       CAST(SUM(m.content_hash % 4294967296) AS BIGINT) AS content_lo,
       COUNT(m.session_id) AS in_sessions,
       CAST(SUM(COALESCE(h.content_hash / 4294967296, 0)) AS BIGINT) AS head_hi,
       CAST(SUM(COALESCE(h.content_hash % 4294967296, 0)) AS BIGINT) AS head_lo,
       CAST(SUM(COALESCE((m.content_hash % 65536) * (h.content_hash % 65536), 0)) AS BIGINT) AS pairs,
       CAST(SUM(COALESCE(k.marks, 0)) AS BIGINT) AS marks
FROM messages m
LEFT JOIN messages h ON h.message_id = m.session_id
LEFT JOIN (SELECT message_id, COUNT(*) AS marks FROM marks GROUP BY message_id) k
       ON k.message_id = m.message_id
GROUP BY m.local_date
ORDER BY m.local_date

-- `itstat export`: per local date of `sessions`, its row count and numbers that change when
-- anything exported for that date changes: the content hashes of each session's messages
-- (tied to the session by the `pairs` product with its head's hash), their marks' count (the
-- manual and knowledge-base columns follow the marks), and the sums of the stored columns.
-- Hashes are summed as 32-bit halves and 16-bit products so that no sum can overflow.
SELECT s.local_date,
       COUNT(*) AS row_count,
       CAST(SUM(COALESCE(g.content_hi, 0)) AS BIGINT) AS content_hi,
       CAST(SUM(COALESCE(g.content_lo, 0)) AS BIGINT) AS content_lo,
       CAST(SUM(COALESCE(g.pairs, 0)) AS BIGINT) AS pairs,
       CAST(SUM(COALESCE(g.marks, 0)) AS BIGINT) AS marks,
       CAST(SUM(s.messages) AS BIGINT) AS messages,
       CAST(SUM(s.answered) AS BIGINT) AS answered,
       CAST(SUM(s.errors) AS BIGINT) AS errors,
       CAST(SUM(s.pending) AS BIGINT) AS pending,
       CAST(SUM(s.kb_hits) AS BIGINT) AS kb_hits,
       CAST(SUM(s.transfer_messages) AS BIGINT) AS transfer_messages,
       CAST(SUM(s.manual_messages) AS BIGINT) AS manual_messages,
       SUM(CASE WHEN s.is_transfer THEN 1 ELSE 0 END) AS is_transfer,
       SUM(CASE WHEN s.is_manual THEN 1 ELSE 0 END) AS is_manual,
       SUM(CASE WHEN s.is_self_resolved THEN 1 ELSE 0 END) AS is_self_resolved
FROM sessions s
LEFT JOIN (
    SELECT m.session_id,
           SUM(m.content_hash / 4294967296) AS content_hi,
           SUM(m.content_hash % 4294967296) AS content_lo,
           SUM((m.content_hash % 65536) * (h.content_hash % 65536)) AS pairs,
           SUM(COALESCE(k.marks, 0)) AS marks
    FROM messages m
    JOIN messages h ON h.message_id = m.session_id
    LEFT JOIN (SELECT message_id, COUNT(*) AS marks FROM marks GROUP BY message_id) k
           ON k.message_id = m.message_id
    GROUP BY m.session_id
) g ON g.session_id = s.session_id
GROUP BY s.local_date
ORDER BY s.local_date

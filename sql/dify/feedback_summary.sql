-- A summary of Dify's current feedback for the selected apps ($1: app ids as text, empty =
-- all), per bucket of message ids (the first $2 characters of the id): how many rows, and the
-- sum of a 60-bit hash of each whole row as read (sql/dify/feedbacks.sql's columns). A rating
-- changed in place, a row withdrawn or added all change their bucket's sum, whether or not
-- Dify bumped updated_at (it does only since 1.10). One row per bucket crosses the network;
-- the warehouse keeps the last summary and reads again only the buckets that changed.
SELECT substr(f.message_id::text, 1, $2::int) AS bucket,
       COUNT(*) AS row_count,
       SUM(('x' || substr(md5(ROW(f.message_id::text, f.from_source::text, f.rating::text,
                                  f.content, f.created_at, f.updated_at)::text), 1, 15))::bit(60)::bigint
          )::text AS checksum
FROM message_feedbacks f
WHERE cardinality($1::text[]) = 0 OR f.app_id = ANY ($1::text[]::uuid[])
GROUP BY 1
ORDER BY 1

-- Dify's current feedback for the selected apps ($1: app ids as text, empty = all) on the
-- messages of some buckets ($3: the first $2 characters of their ids; NULL = every bucket).
-- Feedback is updated in place and hard-deleted when withdrawn, on messages of any age, so a
-- bucket whose summary changed (sql/dify/feedback_summary.sql) is read whole.
SELECT f.message_id::text AS message_id,
       f.from_source::text AS from_source,
       f.rating::text AS rating,
       f.content AS content,
       f.created_at AS created_at,
       f.updated_at AS updated_at
FROM message_feedbacks f
WHERE (cardinality($1::text[]) = 0 OR f.app_id = ANY ($1::text[]::uuid[]))
  AND ($3::text[] IS NULL OR substr(f.message_id::text, 1, $2::int) = ANY ($3::text[]))
ORDER BY f.message_id, f.from_source

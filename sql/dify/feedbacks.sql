-- Dify's current feedback for the selected apps ($1: app ids as text, empty = all). Feedback is
-- updated in place and hard-deleted when withdrawn, so every run reads all of it.
SELECT f.message_id::text AS message_id,
       f.from_source::text AS from_source,
       f.rating::text AS rating,
       f.content AS content,
       f.created_at AS created_at,
       f.updated_at AS updated_at
FROM message_feedbacks f
WHERE cardinality($1::text[]) = 0 OR f.app_id = ANY ($1::text[]::uuid[])
ORDER BY f.message_id, f.from_source

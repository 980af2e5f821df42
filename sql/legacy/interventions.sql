-- The legacy platform's operator actions, every column read as text because the handover did
-- not say their types (legacy.md). The rows of one message in the order they happened (rows
-- without any time first): marks with equal times then keep that order in their ids.
SELECT message_id::text AS message_id,
       manual_intervention::text AS manual_intervention,
       operation_user::text AS operation_user,
       knowledge_status::text AS knowledge_status,
       created_at::text AS created_at,
       updated_at::text AS updated_at
FROM manual_intervention mi
ORDER BY mi.message_id, COALESCE(mi.updated_at::text, mi.created_at::text) NULLS FIRST,
         mi.created_at::text NULLS FIRST

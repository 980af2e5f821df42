-- The legacy platform's operator actions, every column read as text because the handover did
-- not say their types (legacy.md).
SELECT message_id::text AS message_id,
       manual_intervention::text AS manual_intervention,
       operation_user::text AS operation_user,
       knowledge_status::text AS knowledge_status,
       created_at::text AS created_at,
       updated_at::text AS updated_at
FROM manual_intervention
ORDER BY message_id

-- The legacy platform's manual entries, every column read as text.
SELECT id::text AS id,
       user_name::text AS user_name,
       query::text AS query,
       answer::text AS answer,
       consultation_time::text AS consultation_time,
       entry_person::text AS entry_person,
       knowledge_hit::text AS knowledge_hit,
       transfer_to_human::text AS transfer_to_human,
       manual_intervention::text AS manual_intervention,
       operation_user::text AS operation_user
FROM manual_entry
ORDER BY id

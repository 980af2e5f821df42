-- Manual entries dated in [$1, $2], for the Manual sheet.
SELECT user_name, query, consultation_time, entry_person, knowledge_hit, transfer_to_human,
       manual_intervention, operation_user
FROM manual_entries
WHERE local_date >= $1 AND local_date <= $2
ORDER BY consultation_time, entry_id

-- Manual entries dated in [$1, $2].
SELECT user_name, local_date, knowledge_hit, transfer_to_human, manual_intervention
FROM manual_entries
WHERE local_date >= $1 AND local_date <= $2

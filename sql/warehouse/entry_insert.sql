-- Adds one manual entry unless the same row (same natural key) is already there.
INSERT INTO manual_entries (natural_key, user_name, query, answer, consultation_time, local_date,
    entry_person, knowledge_hit, transfer_to_human, manual_intervention, operation_user,
    imported_at, source)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (natural_key) DO NOTHING

-- Excluded messages belong to no session.
UPDATE messages SET session_id = NULL, session_start = NULL, session_date = NULL
WHERE NOT included AND session_id IS NOT NULL

-- `itstat export`: every column of the sessions dated $1 (a local date), oldest first.
-- {{columns}}: the columns as the table declares them (warehouse/export.rs).
SELECT {{columns}}
FROM sessions
WHERE local_date = $1
ORDER BY started_at, session_id

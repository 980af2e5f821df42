-- The stored session rows of the affected users from their restart points on (the scratch
-- table affected_users): the rows a derivation replaces. They are compared with the derived
-- rows, so that only rows that differ are written and only rows no longer derived are dropped
-- (a rule change that moves no session boundary rewrites only the sessions whose counts
-- changed). {{columns}} is the table's column list, each prefixed with `s.`.
SELECT {{columns}}
FROM affected_users a CROSS JOIN sessions s
WHERE s.user_key = a.user_key
  AND s.started_at >= a.from_at
  AND (s.started_at > a.from_at OR s.session_id >= a.from_id)

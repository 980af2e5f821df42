-- `itstat export`: every documented column of the messages dated $1 (a local date), with the
-- current operator marks (the view current_marks), oldest first. {{columns}}: the stored
-- columns, `m.`-prefixed, built from the table's declaration (warehouse/export.rs).
SELECT {{columns}},
       km.value AS kb_mark,
       mm.value AS manual_mark
FROM messages m
LEFT JOIN current_marks km ON km.message_id = m.message_id AND km.field = 'kb_hit'
LEFT JOIN current_marks mm ON mm.message_id = m.message_id AND mm.field = 'manual'
WHERE m.local_date = $1
ORDER BY m.created_at, m.message_id

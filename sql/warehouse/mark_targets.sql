-- What `itstat mark` needs of the listed messages: a brief of each for its output, and the
-- rule's kb verdict and current marks (the view current_marks) that a file row is compared
-- with. A listed id that is not stored has no row.
WITH wanted (id) AS ({{values}})
SELECT m.message_id, m.user_key, m.local_time, m.question, m.state, m.kb_hit,
       km.value AS kb_mark,
       mm.value AS manual_mark
FROM wanted w
JOIN messages m ON m.message_id = w.id
LEFT JOIN current_marks km ON km.message_id = m.message_id AND km.field = 'kb_hit'
LEFT JOIN current_marks mm ON mm.message_id = m.message_id AND mm.field = 'manual'

-- session_messages.sql read in one pass over messages in storage order, for a group of users
-- holding a large share of the table (a reclassification, a rebuild of every session). Through
-- messages_user_time_idx each message is fetched from wherever it is stored, a random read
-- per row; one pass reads each page once: 166,000 messages of 1,000 of 3,000 users in 0.2 s
-- instead of 0.7 s (docs/performance.md, "Reclassification"). NOT INDEXED keeps SQLite on the
-- scan; each row's user is looked up in the scratch table's key.
SELECT m.message_id, m.user_key, m.created_at, m.state, m.kb_hit, m.transfer,
       m.session_id AS old_session_id, m.session_start AS old_session_start,
       m.session_date AS old_session_date,
       km.value AS kb_mark,
       mm.value AS manual_mark
FROM messages m NOT INDEXED JOIN affected_users a ON a.user_key = m.user_key
LEFT JOIN current_marks km ON km.message_id = m.message_id AND km.field = 'kb_hit'
LEFT JOIN current_marks mm ON mm.message_id = m.message_id AND mm.field = 'manual'
WHERE m.included
  AND m.created_at >= a.from_at
  AND (m.created_at > a.from_at OR m.message_id >= a.from_id)

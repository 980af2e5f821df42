-- `itstat export`: every documented column of the messages dated $1 (a local date), with the
-- current operator marks (the view current_marks), oldest first.
SELECT m.message_id, m.app_id, m.conversation_id, m.created_at, m.updated_at, m.local_time,
       m.local_date, m.user_key, m.query, m.question, m.answer, m.status, m.error, m.state,
       m.kb_hit, m.transfer, m.included, m.invoke_from, m.from_source, m.from_end_user_id,
       m.from_account_id, m.end_user_session_id, m.account_email, m.inputs, m.message_tokens,
       m.answer_tokens, m.latency_s, m.total_price, m.currency, m.parent_message_id, m.app_mode,
       m.conversation_name, m.conversation_deleted, m.session_id, m.session_start,
       m.session_date, m.content_hash, m.first_seen_at,
       km.value AS kb_mark,
       mm.value AS manual_mark
FROM messages m
LEFT JOIN current_marks km ON km.message_id = m.message_id AND km.field = 'kb_hit'
LEFT JOIN current_marks mm ON mm.message_id = m.message_id AND mm.field = 'manual'
WHERE m.local_date = $1
ORDER BY m.created_at, m.message_id

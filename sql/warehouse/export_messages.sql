-- `itstat export`: every documented column of the messages dated $1 (a local date), with the
-- current operator marks (per field the latest by marked_at, then mark_id; NULL: no mark,
-- or the rule decides), oldest first.
SELECT m.message_id, m.app_id, m.conversation_id, m.created_at, m.updated_at, m.local_time,
       m.local_date, m.user_key, m.query, m.question, m.answer, m.status, m.error, m.state,
       m.kb_hit, m.transfer, m.included, m.invoke_from, m.from_source, m.from_end_user_id,
       m.from_account_id, m.end_user_session_id, m.account_email, m.inputs, m.message_tokens,
       m.answer_tokens, m.latency_s, m.total_price, m.currency, m.parent_message_id, m.app_mode,
       m.conversation_name, m.conversation_deleted, m.session_id, m.session_start,
       m.session_date, m.content_hash, m.first_seen_at,
       (SELECT k.value FROM marks k WHERE k.message_id = m.message_id AND k.field = 'kb_hit'
        ORDER BY k.marked_at DESC, k.mark_id DESC LIMIT 1) AS kb_mark,
       (SELECT k.value FROM marks k WHERE k.message_id = m.message_id AND k.field = 'manual'
        ORDER BY k.marked_at DESC, k.mark_id DESC LIMIT 1) AS manual_mark
FROM messages m
WHERE m.local_date = $1
ORDER BY m.created_at, m.message_id

-- One message with everything `itstat messages show` prints.
SELECT m.message_id, m.app_id, m.conversation_id, m.created_at, m.local_time, m.user_key,
       m.query, m.question, m.answer, m.status, m.error, m.state, m.kb_hit, m.transfer,
       m.included, m.invoke_from, m.message_tokens, m.answer_tokens, m.latency_s,
       m.session_id, m.session_start, m.conversation_deleted
FROM messages m WHERE m.message_id = $1

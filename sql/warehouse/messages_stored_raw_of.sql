-- Stored messages in the shape Dify gave them, for the rows a reclassification found with
-- changed verdicts (warehouse/verdicts.rs), with what the comparison needs of the stored row
-- (content_hash, user_key, included). The caller appends the id list: `($1, $2, …)`.
SELECT message_id AS id, content_hash, user_key, included, app_id, conversation_id, created_at, updated_at, query, answer, status,
       error, from_source, from_end_user_id, from_account_id, invoke_from, inputs,
       message_tokens, answer_tokens, latency_s, total_price, currency, parent_message_id,
       app_mode, end_user_session_id, account_email, conversation_name, conversation_deleted
FROM messages
WHERE message_id IN 

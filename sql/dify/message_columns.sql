-- The columns itstat reads from a Dify message, with its end user, account and conversation.
-- Included by messages_since.sql and messages_by_id.sql in place of {{columns}}.
-- {{parent_message_id}} and {{app_mode}} become the column or NULL after probing the schema
-- (the columns exist from Dify 0.9.0 and 1.9.2). Integers and prices are widened so that every
-- Dify version decodes alike.
    m.id::text                          AS id,
    m.app_id::text                      AS app_id,
    m.conversation_id::text             AS conversation_id,
    m.created_at                        AS created_at,
    m.updated_at                        AS updated_at,
    m.query                             AS query,
    m.answer                            AS answer,
    m.status::text                      AS status,
    m.error                             AS error,
    m.from_source::text                 AS from_source,
    m.from_end_user_id::text            AS from_end_user_id,
    m.from_account_id::text             AS from_account_id,
    m.invoke_from::text                 AS invoke_from,
    m.inputs::text                      AS inputs,
    m.message_tokens::bigint            AS message_tokens,
    m.answer_tokens::bigint             AS answer_tokens,
    m.provider_response_latency::float8 AS latency_s,
    m.total_price::float8               AS total_price,
    m.currency::text                    AS currency,
    {{parent_message_id}}               AS parent_message_id,
    {{app_mode}}                        AS app_mode,
    eu.session_id::text                 AS end_user_session_id,
    acc.email::text                     AS account_email,
    c.name::text                        AS conversation_name,
    c.is_deleted                        AS conversation_deleted

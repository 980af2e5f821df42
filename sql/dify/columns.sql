-- The columns of the Dify tables itstat reads, to check required ones and probe optional ones.
SELECT table_name::text AS table_name, column_name::text AS column_name
FROM information_schema.columns
WHERE table_schema = current_schema()
  AND table_name IN ('messages', 'conversations', 'end_users', 'accounts', 'message_feedbacks', 'apps')

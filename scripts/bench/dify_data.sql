-- Bulk Dify-shaped data for the benchmark, deterministic (setseed), in a schema created from
-- tests/fixtures/dify_schema.sql. psql variables: messages, users, days, last_day
-- (YYYY-MM-DD, local Asia/Shanghai), and first (a number to keep message ids apart when
-- appending). Bursts of 1-4 questions per user in working hours, 88% answered (70% hits, 18%
-- misses, 12% transfers), 4% errors, 4% blank, 4% debugger traffic, ~9% with feedback.
SELECT setseed(0.2026);

INSERT INTO apps (id, tenant_id, name, mode, enable_site, enable_api)
SELECT '00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000f001', 'IT 助手', 'chat', true, true
WHERE NOT EXISTS (SELECT 1 FROM apps);

INSERT INTO accounts (id, name, email)
SELECT '00000000-0000-4000-8000-00000000c001', 'helpdesk', 'helpdesk@example.com'
WHERE NOT EXISTS (SELECT 1 FROM accounts);

INSERT INTO end_users (id, tenant_id, app_id, type, session_id, is_anonymous)
SELECT md5('user' || g)::uuid, '00000000-0000-4000-8000-00000000f001', '00000000-0000-4000-8000-00000000a001',
       'service-api', 'user' || lpad(g::text, 5, '0'), false
FROM generate_series(1, :users) g
WHERE NOT EXISTS (SELECT 1 FROM end_users);

CREATE TEMP TABLE bursts AS
SELECT b,
       md5('user' || (1 + floor(power(random(), 2) * :users))::int)::uuid AS user_id,
       gen_random_uuid() AS conversation_id,
       (:'last_day'::date - (floor(random() * :days))::int)::timestamp
         + make_interval(mins => (8 * 60 + floor(random() * 11 * 60))::int, secs => floor(random() * 60))
         - interval '8 hours' AS t0,
       1 + floor(power(random(), 2) * 4)::int AS k
FROM generate_series(:first, :first + (:messages / 1.9)::int) b;

CREATE TEMP TABLE msgs AS
SELECT gen_random_uuid() AS id, bu.conversation_id, bu.user_id,
       bu.t0 + make_interval(secs => (j - 1) * (5 + floor(random() * 600))) AS created_at,
       random() AS state_roll, random() AS kind_roll, random() AS q_roll
FROM bursts bu, generate_series(1, bu.k) j
LIMIT :messages;

INSERT INTO conversations (id, app_id, mode, name, inputs, status, from_source, from_end_user_id, created_at, updated_at, invoke_from)
SELECT DISTINCT ON (conversation_id) conversation_id, '00000000-0000-4000-8000-00000000a001', 'chat', 'New conversation', '{}',
       'normal', 'api', user_id, created_at, created_at, 'service-api'
FROM msgs ORDER BY conversation_id, created_at;

INSERT INTO messages (id, app_id, conversation_id, inputs, query, message, message_tokens, message_unit_price,
    answer, answer_tokens, answer_unit_price, provider_response_latency, total_price, currency, from_source,
    from_end_user_id, from_account_id, created_at, updated_at, status, error, invoke_from, parent_message_id, app_mode)
SELECT m.id, '00000000-0000-4000-8000-00000000a001', m.conversation_id, '{}',
       (ARRAY['电脑开机蓝屏怎么办？', 'VPN 连不上，提示认证失败', '打印机卡纸了如何处理', '邮箱密码忘记了怎么重置',
              'WiFi 连接后没有网络', '企业微信登录不了', '会议室投屏怎么操作', '电脑很卡，C 盘满了', '怎么安装 Office',
              '域账号被锁定了', '如何连接共享打印机', 'Teams 会议没有声音'])[1 + floor(m.q_roll * 12)::int],
       '""', CASE WHEN m.state_roll >= 0.08 THEN 300 + floor(m.q_roll * 900)::int ELSE 0 END, 0,
       CASE WHEN m.state_roll < 0.08 THEN ''
            WHEN m.kind_roll < 0.70 THEN '您好，请按以下步骤操作：1. 重启电脑；2. 检查网络连接；3. 如仍有问题请在自助门户提交工单。'
            WHEN m.kind_roll < 0.88 THEN '抱歉，您的问题可能不在服务业务范围内。'
            ELSE '该问题需要现场处理，请拨打 IT 服务台热线 8888 转人工。' END,
       CASE WHEN m.state_roll >= 0.08 THEN 50 + floor(m.kind_roll * 500)::int ELSE 0 END, 0,
       CASE WHEN m.state_roll >= 0.08 THEN 1 + m.kind_roll * 15 ELSE 0 END, 0, 'USD',
       CASE WHEN m.state_roll BETWEEN 0.96 AND 1 THEN 'console' ELSE 'api' END,
       CASE WHEN m.state_roll BETWEEN 0.96 AND 1 THEN NULL ELSE m.user_id END,
       CASE WHEN m.state_roll BETWEEN 0.96 AND 1 THEN '00000000-0000-4000-8000-00000000c001'::uuid END,
       m.created_at, m.created_at + interval '3 seconds',
       CASE WHEN m.state_roll < 0.04 THEN 'error' ELSE 'normal' END,
       CASE WHEN m.state_roll < 0.04 THEN 'Run failed: timeout' END,
       CASE WHEN m.state_roll BETWEEN 0.96 AND 1 THEN 'debugger' ELSE 'service-api' END,
       '00000000-0000-0000-0000-000000000000', 'chat'
FROM msgs m;

INSERT INTO message_feedbacks (app_id, conversation_id, message_id, rating, from_source, from_end_user_id, created_at, updated_at)
SELECT app_id, conversation_id, id, CASE WHEN random() < 0.65 THEN 'like' ELSE 'dislike' END, 'user',
       from_end_user_id, created_at + interval '2 minutes', created_at + interval '2 minutes'
FROM messages
WHERE created_at >= (SELECT MIN(created_at) FROM msgs) AND answer <> '' AND random() < 0.09;

ANALYZE;

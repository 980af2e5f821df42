-- Bulk Dify-shaped data for the benchmark, deterministic (setseed), in a schema created from
-- tests/fixtures/dify_schema.sql. psql variables: messages, users, days, last_day
-- (YYYY-MM-DD, local Asia/Shanghai), first (a number to keep message ids apart when
-- appending) and shape. Bursts of 1-4 questions per user in working hours, 88% answered (70%
-- hits, 18% misses, 12% transfers), 4% errors, 4% blank, 4% debugger traffic, ~9% with
-- feedback.
-- shape = 'repeated': twelve question texts and one-line answers (the benchmark's first data).
-- shape = 'distinct': as real traffic — nearly every question a text of its own (a context, a
-- subject, a problem, a detail and a way of asking, ~36 million combinations: 98-99% of 1M
-- are distinct), sharing common bigrams (「怎么」, 「连不」, 「电脑」), and answers of a RAG
-- bot's length (hits 150-1,500 characters, misses and transfers a paragraph). Its choices come
-- from a hash of the message's place (burst, position), not random(), so the 'repeated' shape's
-- random sequence, and its data, stay as they were.
SELECT setseed(0.2026);
-- The steps a hit of the 'distinct' shape quotes a stretch of (1,270 characters; twice over).
\set steps '第一步，先确认网线或无线网络已经连接，右下角的网络图标没有黄色感叹号。第二步，把设备完全关机后等待三十秒再开机，很多临时故障在重启后会自动恢复。第三步，打开浏览器访问公司门户首页，确认能够正常打开，以排除网络本身的问题。如果提示账号或密码错误，请先在自助门户使用手机验证码重置密码，新密码需要包含大小写字母和数字。重置密码后请等待五分钟左右，等新密码同步到所有系统后再重新登录。如果使用的是笔记本电脑，请确认电源适配器已连接，低电量模式下部分功能会被系统限制。打印相关的问题请先在打印队列中删除所有卡住的任务，然后重新选择正确的打印机再打印一次。共享打印机需要先在控制面板的设备和打印机中添加，选择按名称查找并输入打印服务器地址。邮箱客户端收不到邮件时，可以先登录网页版邮箱确认邮件是否已经到达服务器。如果网页版可以收到而客户端收不到，请在客户端中删除账户后重新添加，注意选择交换服务器类型。会议软件没有声音时，请在会议窗口的音频设置里检查扬声器和麦克风是否选择了正确的设备。外接显示器没有画面时，请按下键盘上的投影快捷键，在复制和扩展模式之间切换试试。远程办公需要先打开安全客户端并完成二次验证，连接成功后再访问内网系统。如果客户端一直转圈，请检查电脑时间是否准确，时间偏差过大会导致证书校验失败。磁盘空间不足时，可以清理下载文件夹和回收站，或者使用系统自带的磁盘清理工具释放空间。软件安装失败通常是因为权限不足，请从软件中心安装经过审核的版本，不要自行下载安装包。账号被锁定一般是连续多次输错密码导致的，锁定会在三十分钟后自动解除，也可以自助解锁。手机上的企业微信登录异常时，请先升级到最新版本，再清除应用缓存后重新扫码登录。浏览器打不开内部系统时，请清除浏览器缓存和历史记录，并确认没有开启代理或者加速插件。文件无法保存到共享盘时，请确认该目录的访问权限，必要时联系部门负责人在门户中申请权限。蓝屏后重新启动如果能够进入系统，请记录下蓝屏画面上的错误代码，便于工程师进一步判断。电脑运行很慢时，可以打开任务管理器查看占用资源最多的程序，结束不需要的程序后再观察。考勤和门禁相关的问题请先确认卡片没有消磁，可以在前台的读卡器上测试一下。云桌面连接断开后，重新打开客户端会自动恢复上次的会话，未保存的文件一般不会丢失。如果是新入职的同事，账号开通后需要等待一个工作日才能登录全部系统，请耐心等待。出差在外地时，建议优先使用公司提供的安全网络客户端，不要在公共网络中直接访问内网。视频会议画面卡顿时，可以先关闭本地视频，只保留音频，带宽不足时这样能明显改善体验。表格软件打开文件很慢时，可以先关闭其他大文件，再尝试以只读方式打开该文件。如果系统提示证书过期，请在软件中心运行证书更新工具，完成后重新启动浏览器。扫描仪识别不到时，请更换一个数据线接口，并在设备管理器中确认驱动程序已经正确安装。蓝牙耳机连接不稳定时，可以先在系统设置中删除配对记录，再重新配对一次。以上操作完成后，建议重新启动一次电脑，让所有设置生效，再确认问题是否已经解决。'

-- The n-th of a choice of `n` from a hash: bytes `i` of the 32-hex-digit hash `h`, 1-based.
CREATE FUNCTION pg_temp.pick(h text, i int, n int) RETURNS int LANGUAGE sql IMMUTABLE AS
$$ SELECT 1 + (('x' || substr(h, 1 + 4 * i, 4))::bit(16)::int % n) $$;

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
SELECT gen_random_uuid() AS id, bu.conversation_id, bu.user_id, md5(bu.b || '.' || j) AS h,
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
       CASE WHEN :'shape' = 'distinct' THEN
         (ARRAY['', '', '在家', '出差的时候', '今天早上', '开会前', '刚才', '换了新电脑以后', '系统升级以后', '重启之后',
                '下午', '在三楼会议室', '连着手机热点时', '用访客网络时', '昨天晚上', '每次开机', '外地分公司这边',
                '刚入职', '休假回来', '切换账号以后', '用 Mac 的时候', '在家里用自己的电脑', '周末加班', '早上打卡后',
                '远程桌面里', '客户现场', '打开附件时', '插上扩展坞后', '改完密码之后', '装了杀毒软件以后'])[pg_temp.pick(m.h, 0, 30)]
         || (ARRAY['电脑', '笔记本', '打印机', 'VPN', '邮箱', '企业微信', 'WiFi', '显示器', '投影仪', '域账号',
                   'Office', 'Teams 会议', '共享盘', '会议室大屏', 'OA 系统', '报销系统', '门禁卡', '扫描仪', '蓝牙耳机',
                   '键盘', 'Outlook', 'Excel', '浏览器', '内网', 'easyconnect', '云桌面', '考勤机', '座机', 'U 盘',
                   '网盘', '钉钉', 'ERP', '工单系统', '摄像头', '麦克风', 'Windows 更新', '杀毒软件', '指纹登录',
                   '打印驱动', '邮件签名'])[pg_temp.pick(m.h, 1, 40)]
         || (ARRAY['连不上', '打不开', '特别慢', '蓝屏了', '没有声音', '登录失败', '密码忘了', '一直转圈圈', '报错',
                   '闪退', '打印不出来', '提示认证失败', '显示离线', '同步不了', '被锁定了', '黑屏', '卡住不动',
                   '收不到邮件', '发不出去', '识别不到', '权限不够', '安装失败', '总是掉线', '中文乱码', '提示证书过期',
                   '占满了', '弹窗关不掉', '时间不对', '找不到了', '没反应'])[pg_temp.pick(m.h, 2, 30)]
         || (ARRAY['', '，', '，提示错误 0x80070005', '，错误码 691', '，重装过一次了', '，同事的正常', '，好几天了',
                   '，换了网线也不行', '，重启也没用', '，只有我这样', '，之前都好好的', '，急用', '，下午要开会',
                   '，型号是 HP M404', '，版本 2.3', '，提示 license 过期', '，显示 IP 冲突', '，在 3 号楼',
                   '，客户在等', '，已经清过缓存', '，用的是 Chrome', '，手机上可以', '，工位 5F-120',
                   '，不知道找谁', '，第一次用', '，今天第二次了', '，换了浏览器一样', '，按了 F8 没用',
                   '，领导着急要', '，附件有 30M', '，杀毒软件报毒', '，刚改了密码', '，提示磁盘已满',
                   '，声音断断续续', '，屏幕一闪一闪', '，提示没有权限', '，连别的 WiFi 可以', '，一直要求验证',
                   '，显示未激活', '，在外地', '，提示服务器繁忙', '，老是弹出来', '，内存占用 99%', '，系统是 Win11',
                   '，用的是 Mac', '，显示 404', '，显示超时', '，说密码错误', '，提示账号异常', '，扫码没反应'])[pg_temp.pick(m.h, 3, 50)]
         || (ARRAY['怎么办？', '怎么处理', '能帮忙看下吗', '请问如何解决？', '。', '怎么弄啊', '有人知道吗', '要找谁',
                   '该怎么设置', '能远程吗', '需要提单吗', '怎么回事', '正常吗', '多久能好', '有办法吗', '求助',
                   '如何恢复', '是哪里的问题', '可以自己弄吗', '急急急'])[pg_temp.pick(m.h, 4, 20)]
       ELSE
       (ARRAY['电脑开机蓝屏怎么办？', 'VPN 连不上，提示认证失败', '打印机卡纸了如何处理', '邮箱密码忘记了怎么重置',
              'WiFi 连接后没有网络', '企业微信登录不了', '会议室投屏怎么操作', '电脑很卡，C 盘满了', '怎么安装 Office',
              '域账号被锁定了', '如何连接共享打印机', 'Teams 会议没有声音'])[1 + floor(m.q_roll * 12)::int]
       END,
       '""', CASE WHEN m.state_roll >= 0.08 THEN 300 + floor(m.q_roll * 900)::int ELSE 0 END, 0,
       CASE WHEN m.state_roll < 0.08 THEN ''
            WHEN :'shape' = 'distinct' AND m.kind_roll < 0.70 THEN
              '您好！根据知识库中的相关文档，这个问题通常可以按下面的步骤自行处理：'
              || substr(repeat(:'steps', 2), 1 + 40 * (pg_temp.pick(m.h, 5, 16) - 1), 150 + 90 * (pg_temp.pick(m.h, 6, 16) - 1))
              || '如果以上步骤都无法解决，请在自助门户提交工单并附上截图，我们会尽快联系您。'
            WHEN :'shape' = 'distinct' AND m.kind_roll < 0.88 THEN
              '抱歉，您的问题可能不在服务业务范围内。我目前只能回答办公电脑、网络、账号、邮箱、打印和常用软件方面的问题，'
              || '您可以换一种说法再问一次，或者在自助门户查看常见问题列表。'
            WHEN :'shape' = 'distinct' THEN
              '您描述的情况可能涉及硬件故障或账号安全，需要工程师现场检查，远程无法直接处理。'
              || '该问题需要现场处理，请拨打 IT 服务台热线 8888 转人工，并提供您的工位号和电脑资产编号，'
              || '工程师一般会在 30 分钟内联系您。处理前请先保存好正在编辑的文件，不要反复重启设备。'
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

//! A deterministic generator of Dify data for an IT help desk.
//!
//! Same seed, same rows, on every machine (ChaCha8). The data covers the states and edge cases
//! of `dify.md` §6: answered, blank (pending), error and paused messages; service-API, web-app,
//! explore, debugger and pre-0.6 (NULL `invoke_from`) traffic; dify2openai history-shaped
//! queries from the single `apiuser`; knowledge-base misses and transfers (some written with
//! full-width or half-width punctuation, to exercise NFKC matching); bursts of questions that
//! straddle the 15-minute window and local midnight; user and admin feedback; soft-deleted
//! conversations; whole-second and microsecond timestamps; non-USD currency.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

/// How much data to make.
#[derive(Debug, Clone)]
pub struct GenConfig {
    pub seed: u64,
    /// Approximate number of messages (the last burst may overshoot by a few).
    pub messages: usize,
    /// Days of history, ending on `last_day` (local dates, Asia/Shanghai).
    pub days: u32,
    pub last_day: NaiveDate,
    /// Distinct service-API users.
    pub users: usize,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            seed: 7,
            messages: 2_000,
            days: 14,
            last_day: NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid date"),
            users: 60,
        }
    }
}

#[derive(Debug, Clone)]
pub struct App {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub mode: String,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: Uuid,
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone)]
pub struct EndUser {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub app_id: Option<Uuid>,
    pub kind: String,
    pub external_user_id: Option<String>,
    pub session_id: String,
    pub is_anonymous: bool,
}

#[derive(Debug, Clone)]
pub struct Conversation {
    pub id: Uuid,
    pub app_id: Uuid,
    pub mode: String,
    pub name: String,
    pub from_source: String,
    pub from_end_user_id: Option<Uuid>,
    pub from_account_id: Option<Uuid>,
    pub created_at: NaiveDateTime,
    pub is_deleted: bool,
    pub invoke_from: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub id: Uuid,
    pub app_id: Uuid,
    pub conversation_id: Uuid,
    pub inputs: String,
    pub query: String,
    pub answer: String,
    pub message_tokens: i32,
    pub answer_tokens: i32,
    pub latency_s: f64,
    pub total_price: f64,
    pub currency: String,
    pub from_source: String,
    pub from_end_user_id: Option<Uuid>,
    pub from_account_id: Option<Uuid>,
    /// Naive UTC.
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub status: String,
    pub error: Option<String>,
    pub invoke_from: Option<String>,
    pub parent_message_id: Option<Uuid>,
    pub app_mode: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Feedback {
    pub id: Uuid,
    pub app_id: Uuid,
    pub conversation_id: Uuid,
    pub message_id: Uuid,
    pub rating: String,
    pub content: Option<String>,
    pub from_source: String,
    pub from_end_user_id: Option<Uuid>,
    pub from_account_id: Option<Uuid>,
    pub created_at: NaiveDateTime,
}

/// A whole Dify database's worth of rows.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub apps: Vec<App>,
    pub accounts: Vec<Account>,
    pub end_users: Vec<EndUser>,
    pub conversations: Vec<Conversation>,
    pub messages: Vec<Message>,
    pub feedbacks: Vec<Feedback>,
}

/// The legacy knowledge-base miss answer (docs/metrics.md default `kb_miss`).
pub const KB_MISS: &str = "抱歉，您的问题可能不在服务业务范围内";

const QUESTIONS: &[&str] = &[
    "电脑开机蓝屏怎么办？",
    "VPN 连不上，提示认证失败",
    "打印机卡纸了如何处理",
    "邮箱密码忘记了怎么重置",
    "Outlook 一直提示输入密码",
    "WiFi 连接后没有网络",
    "如何申请新的显示器",
    "企业微信登录不了",
    "会议室投屏怎么操作",
    "电脑很卡，C 盘满了",
    "怎么安装 Office",
    "域账号被锁定了",
    "如何连接共享打印机",
    "新员工电脑什么时候能领",
    "Teams 会议没有声音",
    "怎么访问内网共享盘",
    "笔记本电池鼓包了",
    "如何开通 GitLab 权限",
    "手机怎么配置公司邮箱",
    "键盘有几个键失灵",
    "ERP 系统打不开",
    "浏览器证书错误怎么处理",
    "如何申请软件采购",
    "电脑中病毒了怎么办",
    "远程桌面连接失败",
    "钉钉和企业微信能同时用吗",
    "怎么修改域密码",
    "U 盘被禁用了",
    "报销系统附件上传失败",
    "视频会议摄像头黑屏",
    "服务器机房温度告警",
    "公司食堂几点开饭",
    "年假还剩几天",
    "怎么申请加班",
    "停车位怎么申请",
    "请帮我写一首诗",
];

const HIT_ANSWERS: &[&str] = &[
    "您好，请按以下步骤操作：1. 重启电脑；2. 检查网线或无线连接；3. 如仍有问题请在自助门户提交工单。",
    "可以在自助服务门户的【账号服务】中自助重置密码，重置后 5 分钟内生效。",
    "请打开设置 > 网络，删除该无线网络后重新连接，并确认使用的是公司 SSID。",
    "已为您找到操作手册：在会议室面板选择【无线投屏】，按屏幕提示输入投屏码即可。",
    "请清理临时文件：运行磁盘清理，勾选临时文件与回收站，可释放数 GB 空间。",
    "软件可在公司软件中心自助安装，搜索软件名称后点击安装，安装过程约 10 分钟。",
    "账号锁定 30 分钟后会自动解锁，也可在自助门户立即解锁。",
];

const MISS_ANSWERS: &[&str] = &[
    "抱歉，您的问题可能不在服务业务范围内。",
    "抱歉,您的问题可能不在服务业务范围内,请咨询相关部门。",
    "很抱歉。抱歉，您的问题可能不在服务业务范围内，您可以换个问法。",
];

const TRANSFER_ANSWERS: &[&str] = &[
    "该问题需要现场处理，请拨打 IT 服务台热线 8888 转人工。",
    "已为您转接IT工程师，请稍候，工程师会通过企业微信联系您。",
    "硬件故障需要更换配件，请携带设备前往ＩＴ服务台。",
];

const NAMES: &[&str] = &[
    "zhangsan", "lisi", "wangwu", "zhaoliu", "sunqi", "zhouba", "wujiu", "zhengshi", "chenhao", "liuyang",
    "huangwei", "linjie", "heping", "gaofeng", "luoyi", "songtao", "tangning", "hanxue",
];

struct Gen {
    rng: ChaCha8Rng,
    data: Dataset,
}

impl Gen {
    fn uuid(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(self.rng.random()).into_uuid()
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.rng.random_range(0..items.len())]
    }
}

/// Generates a dataset.
pub fn generate(cfg: &GenConfig) -> Dataset {
    let mut g = Gen { rng: ChaCha8Rng::seed_from_u64(cfg.seed), data: Dataset::default() };
    let tenant = g.uuid();
    let main_app = App { id: g.uuid(), tenant_id: tenant, name: "IT 助手".into(), mode: "chat".into() };
    let other_app =
        App { id: g.uuid(), tenant_id: tenant, name: "HR 助手".into(), mode: "advanced-chat".into() };
    g.data.apps = vec![main_app.clone(), other_app.clone()];
    for (i, name) in ["it-admin", "helpdesk", "tester"].iter().enumerate() {
        let id = g.uuid();
        g.data.accounts.push(Account { id, name: name.to_string(), email: format!("{name}{i}@example.com") });
    }
    let users = make_end_users(&mut g, cfg, &main_app);
    let first_day = cfg.last_day - Duration::days(cfg.days as i64 - 1);
    while g.data.messages.len() < cfg.messages {
        let day = first_day + Duration::days(g.rng.random_range(0..cfg.days as i64));
        let app = if g.rng.random_bool(0.9) { &main_app } else { &other_app };
        burst(&mut g, app, &users, day);
    }
    g.data.messages.sort_by_key(|m| (m.created_at, m.id));
    add_feedback(&mut g);
    g.data
}

/// Service-API users (skewed: a few ask most), some web-app browser users and `apiuser`.
fn make_end_users(g: &mut Gen, cfg: &GenConfig, app: &App) -> Vec<EndUser> {
    let mut users = Vec::new();
    for i in 0..cfg.users.max(1) {
        let base = NAMES[i % NAMES.len()];
        let session_id =
            if i < NAMES.len() { base.to_string() } else { format!("{base}{:02}", i / NAMES.len()) };
        let new_type = g.rng.random_bool(0.5);
        users.push(EndUser {
            id: g.uuid(),
            tenant_id: app.tenant_id,
            app_id: Some(app.id),
            kind: if new_type { "service-api".into() } else { "service_api".into() },
            external_user_id: new_type.then(|| session_id.clone()),
            session_id,
            is_anonymous: false,
        });
    }
    for _ in 0..3 {
        let session_id = g.uuid().to_string();
        users.push(EndUser {
            id: g.uuid(),
            tenant_id: app.tenant_id,
            app_id: Some(app.id),
            kind: "browser".into(),
            external_user_id: None,
            session_id,
            is_anonymous: true,
        });
    }
    users.push(EndUser {
        id: g.uuid(),
        tenant_id: app.tenant_id,
        app_id: Some(app.id),
        kind: "service_api".into(),
        external_user_id: None,
        session_id: "apiuser".into(),
        is_anonymous: false,
    });
    g.data.end_users = users.clone();
    users
}

/// Who asks: an end user (by index) or a console account.
enum Asker {
    EndUser(usize),
    Account(usize, &'static str),
}

fn pick_asker(g: &mut Gen, users: &[EndUser]) -> Asker {
    let r: f64 = g.rng.random();
    if r < 0.04 {
        let a = g.rng.random_range(0..g.data.accounts.len());
        Asker::Account(a, "debugger")
    } else if r < 0.07 {
        let a = g.rng.random_range(0..g.data.accounts.len());
        Asker::Account(a, "explore")
    } else {
        // Skewed towards the first users: square of a uniform number.
        let u: f64 = g.rng.random();
        Asker::EndUser(((u * u) * users.len() as f64) as usize % users.len())
    }
}

/// A user's burst of questions on a local day, some seconds to minutes apart.
fn burst(g: &mut Gen, app: &App, users: &[EndUser], day: NaiveDate) {
    let asker = pick_asker(g, users);
    // Local working hours, Asia/Shanghai (UTC+8); a few late-night questions cross midnight.
    let local_minute = if g.rng.random_bool(0.03) {
        23 * 60 + g.rng.random_range(40..60)
    } else {
        g.rng.random_range(8 * 60..19 * 60)
    };
    let local_start = day.and_hms_opt(0, 0, 0).expect("midnight")
        + Duration::minutes(local_minute)
        + Duration::seconds(g.rng.random_range(0..60));
    let mut t = local_start - Duration::hours(8);
    let count = 1 + (g.rng.random::<f64>().powi(2) * 5.0) as usize;
    let conversation = new_conversation(g, app, &asker, users, t);
    let mut previous: Option<Uuid> = None;
    for i in 0..count {
        if i > 0 {
            let gap = match g.rng.random_range(0..10) {
                0 => g.rng.random_range(840..960), // around the 15-minute border
                1 => 900,                          // exactly the window
                2..=3 => g.rng.random_range(180..600),
                _ => g.rng.random_range(5..150),
            };
            t += Duration::seconds(gap);
        }
        let exact = if g.rng.random_bool(0.5) {
            t
        } else {
            t + Duration::microseconds(g.rng.random_range(1..1_000_000))
        };
        let conv = if matches!(asker, Asker::EndUser(u) if users[u].session_id == "apiuser") {
            new_conversation(g, app, &asker, users, exact)
        } else {
            conversation.clone()
        };
        let id = message(g, app, &asker, users, &conv, exact, previous);
        previous = Some(id);
    }
}

fn new_conversation(
    g: &mut Gen,
    app: &App,
    asker: &Asker,
    users: &[EndUser],
    t: NaiveDateTime,
) -> Conversation {
    let (from_source, end_user, account, invoke_from) = origin(asker, users);
    let conv = Conversation {
        id: g.uuid(),
        app_id: app.id,
        mode: app.mode.clone(),
        name: "New conversation".into(),
        from_source: from_source.into(),
        from_end_user_id: end_user,
        from_account_id: account,
        created_at: t.with_nanosecond_zero(),
        is_deleted: g.rng.random_bool(0.02),
        invoke_from: Some(invoke_from.into()),
    };
    g.data.conversations.push(conv.clone());
    conv
}

trait WholeSeconds {
    fn with_nanosecond_zero(self) -> Self;
}

impl WholeSeconds for NaiveDateTime {
    fn with_nanosecond_zero(self) -> Self {
        chrono::Timelike::with_nanosecond(&self, 0).unwrap_or(self)
    }
}

fn origin(asker: &Asker, users: &[EndUser]) -> (&'static str, Option<Uuid>, Option<Uuid>, &'static str) {
    match asker {
        Asker::EndUser(u) if users[*u].kind == "browser" => ("api", Some(users[*u].id), None, "web-app"),
        Asker::EndUser(u) => ("api", Some(users[*u].id), None, "service-api"),
        Asker::Account(_, how) => ("console", None, None, how),
    }
}

#[allow(clippy::too_many_arguments)]
fn message(
    g: &mut Gen,
    app: &App,
    asker: &Asker,
    users: &[EndUser],
    conv: &Conversation,
    t: NaiveDateTime,
    previous: Option<Uuid>,
) -> Uuid {
    let (from_source, end_user, _, invoke_from) = origin(asker, users);
    let account = match asker {
        Asker::Account(a, _) => Some(g.data.accounts[*a].id),
        Asker::EndUser(_) => None,
    };
    let dify2openai = matches!(asker, Asker::EndUser(u) if users[*u].session_id == "apiuser");
    let question = g.pick(QUESTIONS).to_string();
    let query = if dify2openai {
        let earlier = g.pick(QUESTIONS);
        format!(
            "here is our talk history:\n'''\nsystem: 你是公司的 IT 助手\nuser: {earlier}\nassistant: 请重启试试\n'''\n\nhere is my question:\n{question}"
        )
    } else {
        question
    };
    let r: f64 = g.rng.random();
    let (status, answer, error) = if r < 0.04 {
        ("error", String::new(), Some("Run failed: provider timeout".to_string()))
    } else if r < 0.08 {
        ("normal", String::new(), None)
    } else if r < 0.085 {
        ("paused", String::new(), None)
    } else {
        let kind: f64 = g.rng.random();
        let text = if kind < 0.70 {
            g.pick(HIT_ANSWERS)
        } else if kind < 0.88 {
            g.pick(MISS_ANSWERS)
        } else {
            g.pick(TRANSFER_ANSWERS)
        };
        ("normal", text.to_string(), None)
    };
    let answered = status == "normal" && !answer.is_empty();
    let message_tokens = if answered { g.rng.random_range(200..1500) } else { 0 };
    let answer_tokens = if answered { g.rng.random_range(50..600) } else { 0 };
    let latency_s = if answered { (g.rng.random_range(800..20_000) as f64) / 1000.0 } else { 0.0 };
    let legacy = g.rng.random_bool(0.3);
    let id = g.uuid();
    let invoke =
        if g.rng.random_bool(0.01) && from_source == "api" { None } else { Some(invoke_from.to_string()) };
    g.data.messages.push(Message {
        id,
        app_id: app.id,
        conversation_id: conv.id,
        inputs: "{}".into(),
        query,
        answer,
        message_tokens,
        answer_tokens,
        latency_s,
        total_price: (message_tokens + answer_tokens) as f64 * 0.000_002,
        currency: if g.rng.random_bool(0.2) { "RMB".into() } else { "USD".into() },
        from_source: from_source.into(),
        from_end_user_id: end_user,
        from_account_id: account,
        created_at: t,
        updated_at: if legacy { t } else { t + Duration::milliseconds((latency_s * 1000.0) as i64) },
        status: status.into(),
        error,
        invoke_from: invoke,
        parent_message_id: if invoke_from == "service-api" { Some(Uuid::nil()) } else { previous },
        app_mode: Some(app.mode.clone()),
    });
    id
}

/// User likes and dislikes, and admin likes on some liked messages (the double-count case).
fn add_feedback(g: &mut Gen) {
    let answered: Vec<Message> =
        g.data.messages.iter().filter(|m| m.status == "normal" && !m.answer.is_empty()).cloned().collect();
    for m in answered {
        let r: f64 = g.rng.random();
        let user_rating = if r < 0.06 {
            Some("like")
        } else if r < 0.09 {
            Some("dislike")
        } else {
            None
        };
        if let Some(rating) = user_rating {
            let fb = feedback(g, &m, rating, "user");
            g.data.feedbacks.push(fb);
            if rating == "like" && g.rng.random_bool(0.2) {
                let fb = feedback(g, &m, "like", "admin");
                g.data.feedbacks.push(fb);
            }
        } else if g.rng.random_bool(0.01) {
            let fb = feedback(g, &m, "dislike", "admin");
            g.data.feedbacks.push(fb);
        }
    }
}

fn feedback(g: &mut Gen, m: &Message, rating: &str, source: &str) -> Feedback {
    Feedback {
        id: g.uuid(),
        app_id: m.app_id,
        conversation_id: m.conversation_id,
        message_id: m.id,
        rating: rating.into(),
        content: (rating == "dislike").then(|| "没解决".to_string()),
        from_source: source.into(),
        from_end_user_id: if source == "user" { m.from_end_user_id } else { None },
        from_account_id: None,
        created_at: (m.created_at + Duration::minutes(2)).with_nanosecond_zero(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_data() {
        let cfg = GenConfig { messages: 300, ..GenConfig::default() };
        let (a, b) = (generate(&cfg), generate(&cfg));
        assert_eq!(a.messages.len(), b.messages.len());
        assert!(a.messages.iter().zip(&b.messages).all(|(x, y)| x.id == y.id && x.query == y.query));
        assert!(a.messages.len() >= 300);
    }

    #[test]
    fn covers_the_edge_cases() {
        let d = generate(&GenConfig::default());
        let has = |f: &dyn Fn(&Message) -> bool| d.messages.iter().any(f);
        assert!(has(&|m| m.status == "error"));
        assert!(has(&|m| m.status == "paused"));
        assert!(has(&|m| m.status == "normal" && m.answer.is_empty()));
        assert!(has(&|m| m.invoke_from.as_deref() == Some("debugger")));
        assert!(has(&|m| m.invoke_from.as_deref() == Some("explore")));
        assert!(has(&|m| m.invoke_from.is_none()));
        assert!(has(&|m| m.query.starts_with("here is our talk history:")));
        assert!(d.feedbacks.iter().any(|f| f.from_source == "admin"));
        assert!(d.conversations.iter().any(|c| c.is_deleted));
    }
}

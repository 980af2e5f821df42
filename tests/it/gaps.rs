//! Knowledge gaps (docs/gaps.md) through the real binary: an OpenAI-compatible embeddings and
//! chat service on loopback, a labelled set of paraphrases, the cache, the failures and the
//! fallback to wording, the sheet, the Markdown, the mail list and `itstat gaps`.
//!
//! No model runs anywhere. The service knows the labelled set's intents and answers vectors
//! with the geometry of bge-m3 (docs/gaps.md): a strong direction shared by every question
//! (unrelated questions at cosine ≈0.3–0.45), a direction per intent, a direction shared by
//! intents about the same thing (「VPN连不上」 and 「VPN账号怎么申请」 both about VPN), and
//! noise of varying strength (paraphrases at 0.5–0.9). A text it does not know gets a vector
//! of its own. The grouping sees only the vectors, as it would see bge-m3's.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use itstat::demo::pg::SchemaVersion;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::alerts::{read_request, respond};
use crate::support::*;

const MISS: &str = "抱歉，您的问题可能不在服务业务范围内";
const DIMS: usize = 1024;

/// The labelled paraphrase set: (intent, the topic it shares with a neighbour, questions).
pub(crate) const INTENTS: &[(&str, &str, &[&str])] = &[
    (
        "vpn_down",
        "vpn",
        &[
            "VPN连不上",
            "在家连不上公司内网",
            "easyconnect 一直转圈圈",
            "ｖｐｎ登陆后马上就断开",
            "远程办公连不进内网怎么办",
        ],
    ),
    (
        "vpn_account",
        "vpn",
        &["VPN账号怎么申请", "怎么开通VPN权限", "新员工需要VPN账号去哪里办", "申请远程访问账号的流程"],
    ),
    (
        "printer_jam",
        "printer",
        &["打印机卡纸", "打印机里纸卡住了拿不出来", "三楼打印机一直提示卡纸", "复印机夹纸了怎么处理"],
    ),
    (
        "printer_driver",
        "printer",
        &["打印机驱动怎么装", "新电脑找不到打印机驱动", "安装打印机驱动失败", "Mac 怎么装打印机驱动程序"],
    ),
    (
        "wifi",
        "",
        &[
            "WiFi 连接后没有网络",
            "无线网连上了但是上不了网",
            "公司wifi显示已连接无internet",
            "手机连公司无线没网",
        ],
    ),
    (
        "mail_password",
        "",
        &["邮箱密码忘了", "怎么重置邮箱密码", "outlook 密码过期了怎么改", "邮箱登录提示密码错误被锁定"],
    ),
    ("expense", "", &["报销系统附件上传失败", "报销单上传发票一直失败", "费用报销附件传不上去"]),
    ("projector", "", &["会议室投屏怎么操作", "会议室电视怎么无线投屏", "开会时笔记本怎么连大屏"]),
    ("badge", "", &["门禁卡丢了怎么补办"]),
];

/// Intents the labelled day does not ask: a later period's new needs.
pub(crate) const LATER: &[(&str, &str, &[&str])] = &[(
    "software",
    "",
    &["怎么安装正版办公软件", "电脑上装不了公司的办公软件", "办公软件的安装包在哪里下载"],
)];

/// The chat model's name for each intent.
pub(crate) fn intent_name(intent: &str) -> String {
    format!("主题-{intent}")
}

/// How the service answers the next embeddings requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Mode {
    Ok,
    Status(u16),
    Slow(Duration),
    Close,
    Garbage,
    /// One vector fewer than asked.
    Short,
    /// 429 with `Retry-After: N` seconds, once; then `Ok`.
    Busy(u64),
    /// This status, with a body that echoes the request's `Authorization` header.
    Echo(u16),
    /// One vector, the same for every question.
    Same,
    /// The last question's vector all zeros.
    Zero,
    /// This many requests answered as `Ok`, then HTTP 500: a service failing half-way.
    FailAfter(usize),
}

/// An OpenAI-compatible embeddings and chat service on loopback.
pub(crate) struct Service {
    pub port: u16,
    embedded: Arc<Mutex<Vec<String>>>,
    requests: Arc<Mutex<usize>>,
    chats: Arc<Mutex<usize>>,
    mode: Arc<Mutex<Mode>>,
    /// When each embeddings request arrived.
    arrivals: Arc<Mutex<Vec<Instant>>>,
}

impl Service {
    pub fn start() -> Service {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let space = Arc::new(Space::new());
        let service = Service {
            port,
            embedded: Arc::default(),
            requests: Arc::default(),
            chats: Arc::default(),
            mode: Arc::new(Mutex::new(Mode::Ok)),
            arrivals: Arc::default(),
        };
        let (embedded, requests, chats, mode, arrivals) = (
            service.embedded.clone(),
            service.requests.clone(),
            service.chats.clone(),
            service.mode.clone(),
            service.arrivals.clone(),
        );
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let (space, embedded, requests, chats, arrivals) =
                    (space.clone(), embedded.clone(), requests.clone(), chats.clone(), arrivals.clone());
                let mode = next_mode(&mode);
                std::thread::spawn(move || {
                    let Some((head, body)) = read_request(&mut stream) else { return };
                    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let bearer =
                        head.lines().any(|l| l.eq_ignore_ascii_case("authorization: Bearer gaps-key"));
                    if head.starts_with("POST /v1/chat/completions ") {
                        *chats.lock().unwrap() += 1;
                        return chat(&mut stream, &space, &body);
                    }
                    if !head.starts_with("POST /v1/embeddings ") || !bearer {
                        return respond(&mut stream, 401, r#"{"error":{"message":"bad key or path"}}"#);
                    }
                    *requests.lock().unwrap() += 1;
                    arrivals.lock().unwrap().push(Instant::now());
                    if let Mode::Echo(code) = mode {
                        let echoed =
                            head.lines().find(|l| l.to_ascii_lowercase().starts_with("authorization:"));
                        let text = serde_json::json!({"error": {"message": format!("rejected {}", echoed.unwrap_or_default())}});
                        return respond(&mut stream, code, &text.to_string());
                    }
                    embed(&mut stream, &space, &body, mode, &embedded);
                });
            }
        });
        service
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    pub fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// Embeddings requests so far (failed ones too).
    pub fn requests(&self) -> usize {
        *self.requests.lock().unwrap()
    }

    /// Texts embedded so far.
    pub fn embedded(&self) -> Vec<String> {
        self.embedded.lock().unwrap().clone()
    }

    pub fn chats(&self) -> usize {
        *self.chats.lock().unwrap()
    }

    /// When each embeddings request arrived.
    pub fn arrivals(&self) -> Vec<Instant> {
        self.arrivals.lock().unwrap().clone()
    }
}

/// The mode of the connection just accepted; a `Busy` answer is given once.
fn next_mode(mode: &Mutex<Mode>) -> Mode {
    let mut mode = mode.lock().unwrap();
    let now = *mode;
    match now {
        Mode::Busy(_) => *mode = Mode::Ok,
        Mode::FailAfter(0) => return Mode::Status(500),
        Mode::FailAfter(n) => {
            *mode = Mode::FailAfter(n - 1);
            return Mode::Ok;
        }
        _ => {}
    }
    now
}

fn embed(stream: &mut TcpStream, space: &Space, body: &Value, mode: Mode, embedded: &Mutex<Vec<String>>) {
    let inputs: Vec<String> = body["input"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default();
    match mode {
        Mode::Status(code) => return respond(stream, code, ""),
        Mode::Close => return,
        Mode::Garbage => return respond(stream, 200, "{\"data\": [ {\"embedding\": [0.1, "),
        Mode::Busy(seconds) => {
            let head = format!(
                "HTTP/1.1 429 Too Many Requests\r\nRetry-After: {seconds}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = std::io::Write::write_all(stream, head.as_bytes());
            return;
        }
        Mode::Slow(d) => std::thread::sleep(d),
        Mode::Ok | Mode::Short | Mode::Echo(_) | Mode::Same | Mode::Zero | Mode::FailAfter(_) => {}
    }
    let vector = |i: usize, text: &str| match mode {
        Mode::Same => space.vector("一个问题"),
        Mode::Zero if i + 1 == inputs.len() => vec![0.0; DIMS],
        _ => space.vector(text),
    };
    let mut data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| serde_json::json!({"object": "embedding", "index": i, "embedding": vector(i, text)}))
        .collect();
    if mode == Mode::Short {
        data.pop();
    }
    embedded.lock().unwrap().extend(inputs);
    let answer = serde_json::json!({"object": "list", "model": body["model"], "data": data});
    respond(stream, 200, &answer.to_string());
}

fn chat(stream: &mut TcpStream, space: &Space, body: &Value) {
    let listed = body["messages"][1]["content"].as_str().unwrap_or_default();
    let first = listed.lines().next().unwrap_or_default().trim_start_matches("- ");
    let name = space.intent_of(first).map(intent_name).unwrap_or_else(|| "未知".into());
    let answer =
        serde_json::json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": name}}]});
    respond(stream, 200, &answer.to_string());
}

/// The geometry the service answers with (see the module docs).
struct Space {
    common: Vec<f32>,
    topics: HashMap<&'static str, Vec<f32>>,
    intents: HashMap<&'static str, Vec<f32>>,
    /// Text (NFKC-insensitive via the exact strings of the set) → intent.
    of: HashMap<String, &'static str>,
}

fn unit(rng: &mut ChaCha8Rng) -> Vec<f32> {
    let v: Vec<f32> = (0..DIMS).map(|_| rng.random::<f32>() - 0.5).collect();
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / n).collect()
}

impl Space {
    fn new() -> Space {
        let mut rng = ChaCha8Rng::seed_from_u64(20);
        let common = unit(&mut rng);
        let mut topics = HashMap::new();
        let mut intents = HashMap::new();
        let mut of = HashMap::new();
        // The later intents last: the labelled day's vectors do not depend on them.
        for (intent, topic, questions) in INTENTS.iter().chain(LATER) {
            intents.insert(*intent, unit(&mut rng));
            if !topic.is_empty() {
                topics.entry(*topic).or_insert_with(|| unit(&mut rng));
            }
            for q in *questions {
                of.insert(shown(q), *intent);
            }
        }
        Space { common, topics, intents, of }
    }

    fn intent_of(&self, text: &str) -> Option<&'static str> {
        self.of.get(&shown(text)).copied()
    }

    /// Unrelated ≈ 0.38; same topic, other intent ≈ 0.50; paraphrases 0.55–0.85.
    fn vector(&self, text: &str) -> Vec<f32> {
        let seed = text.bytes().fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let noise = unit(&mut rng);
        let noise_weight: f32 = 0.35 + rng.random::<f32>() * 0.35;
        let mut v: Vec<f32> = self.common.iter().map(|c| c * 0.62).collect();
        if let Some(intent) = self.intent_of(text) {
            let (_, topic, _) = INTENTS.iter().chain(LATER).find(|(i, _, _)| *i == intent).unwrap();
            for (x, t) in v.iter_mut().zip(&self.intents[intent]) {
                *x += t * 0.5;
            }
            if let Some(shared) = self.topics.get(topic) {
                for (x, t) in v.iter_mut().zip(shared) {
                    *x += t * 0.33;
                }
            }
        } else {
            for (x, n) in v.iter_mut().zip(unit(&mut rng)) {
                *x += n * 0.5;
            }
        }
        for (x, n) in v.iter_mut().zip(&noise) {
            *x += n * noise_weight;
        }
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.into_iter().map(|x| x / n).collect()
    }
}

/// A question as the service receives it (itstat sends NFKC text, spaces collapsed).
fn shown(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfkc().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every labelled question asked on 2026-11-02 as a knowledge-base miss, the first of each
/// intent twice; and one answered question (not a gap).
pub(crate) fn labelled_day() -> Small {
    let mut s = Small::new();
    let mut n = 0;
    for (intent, _, questions) in INTENTS {
        for (j, q) in questions.iter().enumerate() {
            let times = if j == 0 { 2 } else { 1 };
            for _ in 0..times {
                n += 1;
                let at = format!("2026-11-02 {:02}:{:02}:00", 8 + n / 60, n % 60);
                let user = format!("u-{intent}-{j}-{n}");
                let mut m = Msg::new(&user, &at, MISS);
                m.query = q;
                s.msg(m);
            }
        }
    }
    let mut hit = Msg::new("someone", "2026-11-02 18:00:00", "请重启电脑");
    hit.query = "电脑蓝屏";
    s.msg(hit);
    s
}

pub(crate) fn config(service: &Service, extra: &str) -> String {
    format!(
        "[gaps]\nembeddings_url = \"{url}\"\nembeddings_model = \"bge-m3\"\ntimeout = \"1s\"\n{extra}",
        url = service.url()
    )
}

async fn setup(backend: Backend, config: &str) -> (TestDb, TestWarehouse, Env) {
    let dify = dify_with(&labelled_day().data, SchemaVersion::V1_14).await;
    let wh = TestWarehouse::new(backend).await;
    let mut env = Env::new(Some(&dify.url), &wh.url, config);
    env.extra.push(("ITSTAT_GAPS_API_KEY".into(), "gaps-key".into()));
    env.ok(&["ingest"]);
    (dify, wh, env)
}

/// The labelled intent of each question and the group the report put it in.
fn labelling(report: &Value) -> (Vec<usize>, Vec<usize>) {
    let space = Space::new();
    let names: Vec<&str> = INTENTS.iter().map(|(i, _, _)| *i).collect();
    let (mut truth, mut got) = (Vec::new(), Vec::new());
    for (g, group) in report["gaps"].as_array().unwrap().iter().enumerate() {
        for q in group["examples"].as_array().unwrap() {
            let intent = space.intent_of(q.as_str().unwrap()).unwrap_or_else(|| panic!("unknown {q}"));
            truth.push(names.iter().position(|n| *n == intent).unwrap());
            got.push(g);
        }
    }
    (truth, got)
}

/// Every gap is the unanswered part of a topic of the same report: its `topic` is one of the
/// report's topics, whose `unanswered` is the gap's `count`, and no two gaps share a topic.
pub(crate) fn gaps_agree_with_topics(report: &Value) {
    let topics: HashMap<i64, &Value> =
        report["topics"].as_array().unwrap().iter().map(|t| (t["id"].as_i64().unwrap(), t)).collect();
    let mut seen = HashSet::new();
    for gap in report["gaps"].as_array().unwrap() {
        let id = gap["topic"].as_i64().unwrap_or_else(|| panic!("a gap without a topic: {gap}"));
        let topic = topics.get(&id).unwrap_or_else(|| panic!("gap topic {id} is not a topic of the report"));
        assert_eq!(gap["count"], topic["unanswered"], "gap and topic {id} disagree");
        assert_eq!(gap["title"], topic["title"], "topic {id}");
        assert!(seen.insert(id), "two gaps of topic {id}");
    }
    let unanswered: i64 = topics.values().map(|t| t["unanswered"].as_i64().unwrap()).sum();
    let counted: i64 = report["gaps"].as_array().unwrap().iter().map(|g| g["count"].as_i64().unwrap()).sum();
    assert_eq!(counted, unanswered, "every unanswered message of a topic is in its gap");
}

fn group_of<'a>(report: &'a Value, question: &str) -> &'a Value {
    report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["examples"].as_array().unwrap().iter().any(|e| e == question))
        .unwrap_or_else(|| panic!("{question} is in no group"))
}

on_both_backends!(questions_group_by_meaning_named_by_the_chat_model_and_cached);

async fn questions_group_by_meaning_named_by_the_chat_model_and_cached(backend: Backend) {
    let service = Service::start();
    let chat = format!("chat_url = \"{}\"\nchat_model = \"Qwen3-30B-A3B-Instruct\"\n", service.url());
    let (_dify, wh, env) = setup(backend, &config(&service, &chat)).await;
    let day = ["--date", "2026-11-02"];
    let report = env.report(&day);
    assert_eq!(report["gaps_grouped_by"], "meaning", "{}", report["warnings"]);
    assert_eq!(report["warnings"], Value::Array(vec![]));
    assert!(service.chats() > 0, "the chat model named the groups");
    gaps_agree_with_topics(&report);
    let named = wh.count("SELECT COUNT(*) FROM topics WHERE title_source = 'chat'").await;
    assert_eq!(named as usize, service.chats(), "one request per new topic named");

    // Quality on the labelled set (the examples hold every distinct question: ≤ 5 per group).
    let (truth, got) = labelling(&report);
    let distinct: usize = INTENTS.iter().map(|(_, _, q)| q.len()).sum();
    assert_eq!(truth.len(), distinct, "every distinct question is listed once");
    let ari = itstat::gaps::cluster::adjusted_rand_index(&truth, &got);
    println!("adjusted Rand index, by meaning: {ari:.3}");
    assert!(ari >= 0.8, "ARI {ari}");
    // Close needs stay apart.
    assert_ne!(group_of(&report, "VPN连不上"), group_of(&report, "VPN账号怎么申请"));
    assert_ne!(group_of(&report, "打印机卡纸"), group_of(&report, "打印机驱动怎么装"));

    // Every unanswered message of the period is in exactly one group; the answered one in none.
    let ids: Vec<&str> = report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["message_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()))
        .collect();
    let unique: HashSet<&&str> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (distinct + INTENTS.len(), distinct + INTENTS.len()));
    let counted: i64 = report["gaps"].as_array().unwrap().iter().map(|g| g["count"].as_i64().unwrap()).sum();
    assert_eq!(counted as usize, ids.len());
    // Largest first, the chat model's names on groups of two or more, all new.
    let vpn = group_of(&report, "VPN连不上");
    assert_eq!(vpn["title"], intent_name("vpn_down"), "{vpn}");
    assert_eq!(report["gaps"][0]["count"].as_i64().unwrap(), 6, "vpn_down: 5 questions, one asked twice");
    assert!(report["gaps"].as_array().unwrap().iter().all(|g| g["new"] == true));
    let badge = group_of(&report, "门禁卡丢了怎么补办");
    assert_eq!(badge["title"], "门禁卡丢了怎么补办", "a single question is its own title");

    // The cache: the second report asks the service for nothing.
    // Every question of the period has a vector (the answered one too: it has a topic).
    let (requests, embedded, chats) = (service.requests(), service.embedded().len(), service.chats());
    assert_eq!(embedded, distinct + 1);
    let again = env.report(&day);
    assert_eq!(again["gaps"], report["gaps"]);
    assert_eq!(again["topics"], report["topics"], "the same ids and titles");
    assert_eq!(service.requests(), requests, "cached vectors are not asked for again");
    assert_eq!(service.chats(), chats, "a topic is named once, when it is made");
    assert_eq!(wh.count("SELECT COUNT(*) FROM gap_vectors").await, distinct as i64 + 1);

    // `itstat gaps`: the same list, as CSV for the tracker.
    let csv = env.ok(&["gaps", "--period", "day", "--date", "2026-11-02", "--format", "csv", "--limit", "3"]);
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[0][0], report["gaps"][0]["topic"].to_string());
    assert_eq!(&rows[0][1], report["gaps"][0]["title"].as_str().unwrap());
    let table = env.ok(&["gaps", "--period", "day", "--date", "2026-11-02"]);
    assert!(table.contains("grouped by meaning"), "{table}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_service_questions_group_by_wording_and_score_lower() {
    let service = Service::start();
    let (_dify, _wh, env) = setup(Backend::Sqlite, "").await;
    let report = env.report(&["--date", "2026-11-02"]);
    assert_eq!(report["gaps_grouped_by"], "wording");
    assert_eq!(report["warnings"], Value::Array(vec![]), "unset is not a failure");
    let (truth, got) = labelling(&report);
    let ari = itstat::gaps::cluster::adjusted_rand_index(&truth, &got);
    println!("adjusted Rand index, by wording: {ari:.3}");
    assert!(ari < 0.5, "wording alone cannot see paraphrases: {ari}");
    assert_eq!(service.requests(), 0);
}

/// Each way the service can fail: the report still comes out (exit 0), grouped by wording,
/// with a warning naming the service and the error, on stderr and in the report.
#[tokio::test(flavor = "multi_thread")]
async fn a_failing_service_falls_back_to_wording_and_keeps_what_is_cached() {
    let service = Service::start();
    let (_dify, _wh, env) = setup(Backend::Sqlite, &config(&service, "")).await;
    let day = ["report", "--date", "2026-11-02", "--format", "json"];
    let cases = [
        (Mode::Status(503), "HTTP 503"),
        (Mode::Slow(Duration::from_secs(3)), "no answer in time"),
        (Mode::Close, "embeddings (after 3 attempts)"),
        (Mode::Garbage, "not the expected JSON"),
        (Mode::Short, "vectors for"),
    ];
    for (mode, needle) in cases {
        service.set(mode);
        let out = env.run(&day);
        assert!(out.status.success(), "{mode:?}: {}", String::from_utf8_lossy(&out.stderr));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["gaps_grouped_by"], "wording", "{mode:?}");
        let warning =
            report["warnings"].as_array().unwrap().iter().find(|w| w["kind"] == "gaps_by_wording").cloned();
        let message =
            warning.unwrap_or_else(|| panic!("{mode:?}: {}", report["warnings"]))["message"].to_string();
        assert!(message.contains("127.0.0.1") && message.contains(needle), "{mode:?}: {message}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("WARN") && stderr.contains("wording"), "{mode:?}: {stderr}");
        assert!(!stderr.contains("gaps-key") && !message.contains("gaps-key"));
    }

    // Vectors cached by a good run are used while the service is down: the paraphrases the
    // wording cannot join stay together.
    service.set(Mode::Ok);
    env.ok(&day);
    service.set(Mode::Status(500));
    let out = env.run(&day);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["warnings"], Value::Array(vec![]), "nothing was missing, nothing asked");
    assert_eq!(report["gaps_grouped_by"], "meaning");
    assert_eq!(group_of(&report, "VPN连不上"), group_of(&report, "在家连不上公司内网"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sheet_the_markdown_and_the_mail_list_show_gaps_with_hostile_text_inert() {
    let mut s = labelled_day();
    // Asked three times each: at the top of every list.
    let link = "[点我](http://evil.example) **粗体**";
    for q in ["=HYPERLINK(\"http://evil.example\",\"点我\")", "<script>alert(1)</script> | x", link] {
        for at in ["2026-11-02 20:00:00", "2026-11-02 20:01:00", "2026-11-02 20:02:00"] {
            let mut m = Msg::new("mallory", at, MISS);
            m.query = q;
            s.msg(m);
        }
    }
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let mail = "[mail]\nhost = \"127.0.0.1\"\nport = 1\ntls = \"none\"\nfrom = \"itstat@example.com\"\n";
    let env = Env::new(Some(&dify.url), "sqlite://itstat.db", mail);
    env.ok(&["ingest"]);
    let md = env.ok(&["report", "--date", "2026-11-02", "--format", "md"]);
    assert!(md.contains("## 知识缺口（前 10）"), "{md}");
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt; \\| x"), "{md}");
    // The title of its group and its example, as written: no link named 点我, nothing bold.
    let gaps = &md[md.find("## 知识缺口").unwrap()..];
    let inert = r"\[点我\](http://evil.example) \*\*粗体\*\*";
    let row = gaps.lines().find(|l| l.contains("evil.example) ")).unwrap_or_else(|| panic!("{gaps}"));
    assert_eq!(row.matches(inert).count(), 2, "title and example: {row}");
    assert!(!md.contains("[点我](") && !md.contains("**粗体**"), "{md}");
    env.ok(&["report", "--date", "2026-11-02"]);
    let mut book =
        calamine::open_workbook_auto(env.path().join("reports/itstat-day-2026-11-02.xlsx")).unwrap();
    use calamine::Reader;
    assert!(book.sheet_names().contains(&"知识缺口".to_string()), "{:?}", book.sheet_names());
    let sheet = book.worksheet_range("知识缺口").unwrap();
    let titles: BTreeMap<String, ()> = sheet.rows().skip(1).map(|r| (r[0].to_string(), ())).collect();
    assert!(
        titles.contains_key("=HYPERLINK(\"http://evil.example\",\"点我\")"),
        "stored as text: {titles:?}"
    );
    let formulas = book.worksheet_formula("知识缺口").unwrap();
    assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()), "no formula in the sheet");
    env.ok(&["report", "--date", "2026-11-02", "--mail", "--to", "boss@example.com", "--dry-run"]);
    let eml = std::fs::read(env.path().join("reports/itstat-day-2026-11-02.eml")).unwrap();
    let mail = mail_parser::MessageParser::default().parse(&eml).unwrap();
    let html = mail.body_html(0).unwrap();
    assert!(html.contains("知识缺口（未命中问题按含义分组）"), "{html}");
    assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"), "{html}");
}

/// `--limit 0` would show no group of a week full of them: N is 1 or more, said in `--help`;
/// 0, a negative or a word is one line naming the flag, exit 1, before anything is read.
#[test]
fn a_limit_below_one_is_refused_in_one_line() {
    let env = Env::new(None, "sqlite://itstat.db", "");
    for bad in ["0", "-1", "many"] {
        let err = env.fails(&["gaps", "--date", "2026-11-02", &format!("--limit={bad}")], 1);
        assert_eq!(err.lines().count(), 1, "{bad}: {err}");
        assert!(err.contains("--limit") && err.contains("1 or more"), "{bad}: {err}");
    }
    let help = env.ok(&["gaps", "--help"]);
    assert!(help.contains("N is 1 or more"), "{help}");
}

/// A 429 is tried again after the pause its `Retry-After` asks for (not the backoff's 0.5 s),
/// when that fits in `[gaps] timeout`; a longer one falls back to wording at once, saying why.
#[tokio::test(flavor = "multi_thread")]
async fn a_busy_service_is_asked_again_after_the_pause_it_names() {
    let service = Service::start();
    let (_dify, _wh, env) = setup(Backend::Sqlite, &config(&service, "")).await;
    let day = ["--date", "2026-11-02"];
    service.set(Mode::Busy(5));
    let report = env.report(&day);
    assert_eq!(report["gaps_grouped_by"], "wording");
    let message = report["warnings"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("429") && message.contains("gaps.timeout"), "{}", report["warnings"]);
    assert_eq!(service.arrivals().len(), 1, "a pause longer than the timeout is not waited for");

    service.set(Mode::Busy(1));
    let report = env.report(&day);
    assert_eq!(report["gaps_grouped_by"], "meaning", "{}", report["warnings"]);
    assert_eq!(report["warnings"], Value::Array(vec![]));
    let arrivals = service.arrivals();
    assert_eq!(arrivals.len(), 3, "the 429, then the answer");
    let pause = arrivals[2] - arrivals[1];
    assert!(pause >= Duration::from_millis(950), "asked again after {pause:?}, not after Retry-After: 1");
}

/// A service whose error body echoes the bearer key: the body is quoted in the warning, with
/// the key masked — in the JSON, on stderr and in the Markdown (the workbook and the mail
/// quote the same warning text).
#[tokio::test(flavor = "multi_thread")]
async fn an_error_body_that_echoes_the_key_is_quoted_with_the_key_masked() {
    let service = Service::start();
    let (_dify, _wh, env) = setup(Backend::Sqlite, &config(&service, "")).await;
    for code in [400, 401, 500] {
        service.set(Mode::Echo(code));
        let out = env.run(&["report", "--date", "2026-11-02", "--format", "json"]);
        assert!(out.status.success(), "{code}: {}", String::from_utf8_lossy(&out.stderr));
        let (json, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(json.contains("gaps_by_wording") && json.contains(&format!("HTTP {code}")), "{json}");
        assert!(!json.contains("gaps-key") && !stderr.contains("gaps-key"), "{code}: {json}\n{stderr}");
        let md = env.ok(&["report", "--date", "2026-11-02", "--format", "md"]);
        assert!(md.contains(&format!("HTTP {code}")) && !md.contains("gaps-key"), "{md}");
    }
    service.set(Mode::Echo(401));
    let report = env.report(&["--date", "2026-11-02"]);
    let message = report["warnings"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("rejected") && message.contains("***"),
        "the rest of the body is quoted: {message}"
    );
}

/// A service answering vectors that carry no meaning — one vector for every question, or a
/// vector of zeros — is treated as failing: grouped by wording with a warning saying why, and
/// nothing cached, so the healthy service's vectors are asked for (and used) next time.
#[tokio::test(flavor = "multi_thread")]
async fn meaningless_vectors_are_refused_and_not_cached() {
    let service = Service::start();
    let (_dify, wh, env) = setup(Backend::Sqlite, &config(&service, "")).await;
    let day = ["--date", "2026-11-02"];
    for (mode, needle) in [(Mode::Same, "the same vector for all"), (Mode::Zero, "an all-zero vector")] {
        service.set(mode);
        let report = env.report(&day);
        assert_eq!(report["gaps_grouped_by"], "wording", "{mode:?}");
        let warning = &report["warnings"][0];
        assert_eq!(warning["kind"], "gaps_by_wording", "{mode:?}: {}", report["warnings"]);
        assert!(warning["message"].as_str().unwrap().contains(needle), "{mode:?}: {warning}");
        assert!(report["gaps"].as_array().unwrap().len() > 1, "{mode:?}: not one group of everything");
        assert_eq!(wh.count("SELECT COUNT(*) FROM gap_vectors").await, 0, "{mode:?}: nothing cached");
    }
    service.set(Mode::Ok);
    let report = env.report(&day);
    assert_eq!(report["gaps_grouped_by"], "meaning", "{}", report["warnings"]);
    assert_eq!(group_of(&report, "VPN连不上"), group_of(&report, "在家连不上公司内网"));
    assert_ne!(group_of(&report, "VPN连不上"), group_of(&report, "打印机卡纸"));
    // The labelled questions and the answered one: every question of a topic has a vector.
    let distinct: usize = INTENTS.iter().map(|(_, _, q)| q.len()).sum();
    assert_eq!(wh.count("SELECT COUNT(*) FROM gap_vectors").await, distinct as i64 + 1);
}

//! Operator commands: `messages`, `mark`, `import` (files, template, legacy database), on
//! both warehouse backends.

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};
use itstat::demo::pg::SchemaVersion;
use polars::prelude::*;
use rust_xlsxwriter::{Format, Workbook};

use crate::support::*;

on_both_backends!(
    marks_change_sessions_and_kb_hits,
    ids_are_resolved_before_anything_is_written,
    manual_entries_import_from_csv_and_xlsx,
    legacy_platform_migrates_once,
    reimport_by_another_operator_adds_nothing,
    template_example_row_is_not_imported,
    late_legacy_marks_do_not_override_newer_ones,
    mark_takes_the_csv_messages_prints,
    messages_filters_narrow_the_list,
    manual_sheet_lists_the_marks_and_entries_of_the_period,
    users_with_messages_and_entries_count_once,
    listed_flags_follow_the_marks_rule,
    short_ids_are_the_shortest_unique_prefixes,
    thousands_of_ids_cost_a_few_queries,
);

/// Two users on 2026-11-02: zhangsan (one answered message, self-resolved) and lisi (a KB miss).
async fn two_messages(backend: Backend) -> (TestDb, Env, TestWarehouse, [uuid::Uuid; 2]) {
    let mut s = Small::new();
    let a = s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "请重启电脑"));
    let b = s.msg(Msg::new("lisi", "2026-11-02 10:00:00", "抱歉，您的问题可能不在服务业务范围内"));
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    env.ok(&["ingest"]);
    (dify, env, wh, [a, b])
}

fn totals(env: &Env) -> serde_json::Value {
    env.report(&["--date", "2026-11-02"])["totals"].clone()
}

async fn marks_change_sessions_and_kb_hits(backend: Backend) {
    let (_dify, env, wh, [a, b]) = two_messages(backend).await;
    let t = totals(&env);
    assert_eq!((t["self_resolved_sessions"].as_i64(), t["manual_sessions"].as_i64()), (Some(2), Some(0)));
    assert_eq!(t["kb_hits"], 1);
    let out = env.ok(&["mark", &a.to_string(), "--manual", "--operator", "wang", "--note", "电话支持"]);
    assert!(out.contains("manual=yes by wang"), "{out}");
    env.ok(&["mark", &b.to_string(), "--kb-hit", "yes", "--operator", "wang"]);
    let t = totals(&env);
    assert_eq!((t["self_resolved_sessions"].as_i64(), t["manual_sessions"].as_i64()), (Some(1), Some(1)));
    assert_eq!(t["manual_rate"].as_f64(), Some(0.5));
    assert_eq!(t["kb_hits"], 2);
    // The sessions table follows the marks at once, for BI tools.
    assert_eq!(wh.count("SELECT COUNT(*) FROM sessions WHERE is_manual = TRUE").await, 1);
    // `auto` hands the verdict back to the rule; --no-manual withdraws; history keeps all.
    env.ok(&["mark", &b.to_string(), "--kb-hit", "auto"]);
    env.ok(&["mark", &a.to_string(), "--no-manual"]);
    let t = totals(&env);
    assert_eq!((t["kb_hits"].as_i64(), t["manual_sessions"].as_i64()), (Some(1), Some(0)));
    let history = env.ok(&["mark", "--history", &a.to_string()]);
    assert!(history.contains("manual=yes") && history.contains("manual=no"), "{history}");
    assert!(history.contains("电话支持"), "{history}");
    assert!(history.contains("current: manual=no"), "{history}");
    assert_eq!(wh.count("SELECT COUNT(*) FROM marks").await, 4, "marks are append-only");
    // `messages` lists and filters by effective flags; `show` explains them.
    let listed = env.ok(&["messages", "--since", "2026-11-01", "--unhit", "--format", "json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["user"], "lisi");
    let show = env.ok(&["messages", "show", &b.to_string()[..]]);
    assert!(show.contains("kb hit    no — the answer matches the miss phrase"), "{show}");
    let table = env.ok(&["messages", "--since", "2026-11-01", "--user", "zhangsan"]);
    assert!(table.contains(&a.to_string()) && !table.contains("lisi"), "{table}");
}

async fn ids_are_resolved_before_anything_is_written(backend: Backend) {
    let (_dify, env, wh, [a, b]) = two_messages(backend).await;
    // All Small ids share their first 8 characters: a prefix is ambiguous, and the error lists
    // the candidates to choose from.
    let err = env.fails(&["mark", "10000000", "--manual"], 1);
    let line = error_line(&err);
    assert!(line.contains("ambiguous"), "{err}");
    assert!(line.contains(&a.to_string()) && line.contains(&b.to_string()), "the candidates: {err}");
    let err = env.fails(&["mark", &a.to_string(), "ffffff00", "--manual"], 1);
    assert!(error_line(&err).contains("`ffffff00`: no message has this id"), "{err}");
    let err = env.fails(&["mark", "abc", "--manual"], 1);
    assert!(error_line(&err).contains("not a message id"), "{err}");
    let err = env.fails(&["mark", &a.to_string()], 1);
    assert!(error_line(&err).contains("nothing to mark"), "{err}");
    assert_eq!(wh.count("SELECT COUNT(*) FROM marks").await, 0, "nothing written");
    // A dry run writes nothing either; ids from a file work like ids typed.
    let out = env.ok(&["mark", &a.to_string(), "--manual", "--dry-run"]);
    assert!(out.contains("would mark"), "{out}");
    assert_eq!(wh.count("SELECT COUNT(*) FROM marks").await, 0);
    let file = env.path().join("ids.csv");
    std::fs::write(&file, format!("id,manual,note\n{a},是,从文件\n")).unwrap();
    env.ok(&["mark", "--from-file", "ids.csv", "--operator", "li"]);
    assert_eq!(wh.query_strings("SELECT note FROM marks").await, vec!["从文件".to_string()]);
}

fn write_xlsx(path: &std::path::Path, headers: &[&str], rows: &[Vec<&str>]) {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            match chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M") {
                Ok(t) => sheet.write_datetime_with_format(r, c, t, &date).map(|_| ()).unwrap(),
                Err(_) => sheet.write_string(r, c, *v).map(|_| ()).unwrap(),
            }
        }
    }
    book.save(path).unwrap();
}

async fn manual_entries_import_from_csv_and_xlsx(backend: Backend) {
    let (_dify, env, wh, _) = two_messages(backend).await;
    std::fs::write(
        env.path().join("walkins.csv"),
        "\u{feff}咨询时间,用户名,问题,回复,是否转人工,人工处理,知识库是否命中\n\
         2026-11-02 14:00,wangwu,显示器不亮,换线,否,是,未命中\n\
         2026/11/02 15:30,zhaoliu,VPN,已解决,否,否,命中\n",
    )
    .unwrap();
    let out = env.ok(&["import", "manual-entries", "walkins.csv", "--dry-run"]);
    assert!(out.contains("2 would be added"), "{out}");
    assert_eq!(wh.count("SELECT COUNT(*) FROM manual_entries").await, 0);
    let out = env.ok(&["import", "manual-entries", "walkins.csv", "--operator", "ops"]);
    assert!(out.contains("imported 2"), "{out}");
    let out = env.ok(&["import", "manual-entries", "walkins.csv", "--operator", "ops"]);
    assert!(out.contains("imported 0"), "re-import adds nothing: {out}");
    write_xlsx(
        &env.path().join("walkins.xlsx"),
        &["user_name", "query", "consultation_time", "transfer_to_human"],
        &[vec!["sunqi", "打印机", "2026-11-02 16:00", "yes"]],
    );
    env.ok(&["import", "manual-entries", "walkins.xlsx"]);
    let t = totals(&env);
    // Bot: 2 sessions (both self-resolved); entries: wangwu manual, zhaoliu self-resolved, sunqi transfer.
    assert_eq!(
        (t["manual_entries"].as_i64(), t["sessions"].as_i64(), t["users"].as_i64()),
        (Some(3), Some(5), Some(5))
    );
    assert_eq!((t["manual_sessions"].as_i64(), t["transfer_sessions"].as_i64()), (Some(1), Some(1)));
    assert_eq!(t["self_resolved_sessions"], 3);
    assert_eq!(t["messages"], 2, "entries never count as messages");
    // A file with several bad rows: all reported, nothing imported.
    std::fs::write(
        env.path().join("bad.csv"),
        "用户,问题,咨询时间,转人工\nx,q,2026-13-01 10:00,否\n,q,2026-11-02 10:00,也许\ny,q,2026-11-02 10:00,是\n",
    )
    .unwrap();
    let err = env.fails(&["import", "manual-entries", "bad.csv"], 1);
    assert!(err.contains("bad.csv: row 2, column 咨询时间: \"2026-13-01 10:00\""), "{err}");
    assert!(err.contains("bad.csv: row 3, column 用户: empty"), "{err}");
    assert!(err.contains("bad.csv: row 3, column 转人工: \"也许\""), "{err}");
    assert!(error_line(&err).contains("3 problems"), "{err}");
    assert_eq!(wh.count("SELECT COUNT(*) FROM manual_entries").await, 3);
}

async fn legacy_platform_migrates_once(backend: Backend) {
    let (_dify, env, wh, [a, b]) = two_messages(backend).await;
    let legacy = TestDb::create("legacy").await;
    legacy
        .exec(&format!(
            "{LEGACY_SCHEMA}
             INSERT INTO manual_intervention VALUES
                 ('{a}', true, 'zhou', 'q', 'zhangsan', NULL, '2026-11-02 11:00', '2026-11-02 11:05'),
                 ('{b}', false, 'zhou', 'q', 'lisi', '命中', '2026-11-02 12:00', NULL);
             INSERT INTO manual_entry (user_name, query, answer, consultation_time, entry_person,
                 knowledge_hit, transfer_to_human, manual_intervention, operation_user) VALUES
                 ('wangwu', '电话咨询', '已处理', '2026-11-02 16:00', 'zhou', '是', '否', '1', 'zhou');"
        ))
        .await;
    let out = env.ok(&["import", "legacy", "--from", &legacy.url, "--dry-run"]);
    assert!(
        out.contains("dry run: would migrate 3 marks (of 3) and 1 manual entries (of 1); nothing written"),
        "{out}"
    );
    assert_eq!(
        wh.count("SELECT COUNT(*) FROM marks").await + wh.count("SELECT COUNT(*) FROM manual_entries").await,
        0
    );
    let out = env.ok(&["import", "legacy", "--from", &legacy.url]);
    assert!(out.contains("migrated 3 marks (of 3) and 1 manual entries (of 1)"), "{out}");
    let out = env.ok(&["import", "legacy", "--from", &legacy.url, "--dry-run"]);
    assert!(out.contains("dry run: would migrate 0 marks (of 3) and 0 manual entries (of 1)"), "{out}");
    let out = env.ok(&["import", "legacy", "--from", &legacy.url]);
    assert!(out.contains("migrated 0 marks (of 3) and 0 manual entries (of 1)"), "{out}");
    assert_eq!(wh.count("SELECT COUNT(*) FROM marks WHERE source = 'legacy'").await, 3);
    let t = totals(&env);
    // zhangsan's session becomes manual, lisi's KB miss is overridden as a hit, wangwu's entry is manual.
    assert_eq!(
        (t["manual_sessions"].as_i64(), t["kb_hits"].as_i64(), t["manual_entries"].as_i64()),
        (Some(2), Some(2), Some(1))
    );
    // A value that is no flag stops the whole migration.
    legacy.exec("UPDATE manual_entry SET transfer_to_human = 'maybe'").await;
    let err = env.fails(&["import", "legacy", "--from", &legacy.url], 1);
    assert!(err.contains("legacy manual_entry id=1, column transfer_to_human: \"maybe\""), "{err}");
}

/// Walk-ins without an `entry_person` column: the importing operator fills it in.
const WALKINS: &str = "\u{feff}咨询时间,用户名,问题,回复,是否转人工,人工处理,知识库是否命中\n\
     2026-11-02 14:00,wangwu,显示器不亮,换线,否,是,未命中\n\
     2026/11/02 15:30,zhaoliu,VPN,已解决,否,否,命中\n";

/// The natural key that itstat before the stable key gave wangwu's row of [`WALKINS`] imported
/// with `--operator ops` (read from a warehouse that release wrote).
const OLD_KEY_WANGWU_BY_OPS: &str = "0f624f314d5d8e67";

async fn reimport_by_another_operator_adds_nothing(backend: Backend) {
    let (_dify, mut env, wh, [a, _b]) = two_messages(backend).await;
    std::fs::write(env.path().join("walkins.csv"), WALKINS).unwrap();
    // Without `--operator`, ITSTAT_OPERATOR names the operator, for imports and marks.
    env.extra.push(("ITSTAT_OPERATOR".into(), "ops".into()));
    let out = env.ok(&["import", "manual-entries", "walkins.csv"]);
    assert!(out.contains("imported 2"), "{out}");
    env.ok(&["mark", &a.to_string(), "--manual"]);
    assert_eq!(
        wh.query_strings("SELECT entry_person FROM manual_entries ORDER BY entry_id").await,
        ["ops", "ops"]
    );
    assert_eq!(wh.query_strings("SELECT operator FROM marks").await, ["ops"]);
    // Another operator imports the same file, by flag or by environment: nothing is added, and
    // the dry run says so.
    let out = env.ok(&["import", "manual-entries", "walkins.csv", "--operator", "li", "--dry-run"]);
    assert!(out.contains("2 rows valid, 0 would be added, 2 already imported"), "{out}");
    let out = env.ok(&["import", "manual-entries", "walkins.csv", "--operator", "li"]);
    assert!(out.contains("imported 0 manual entries from walkins.csv (2 already there)"), "{out}");
    env.extra = vec![("ITSTAT_OPERATOR".into(), "zhou".into())];
    let out = env.ok(&["import", "manual-entries", "walkins.csv"]);
    assert!(out.contains("imported 0"), "{out}");
    // A warehouse written before the upgrade holds the old formula's key for wangwu's row:
    // importing the file again, as someone else, still adds nothing.
    wh.exec(&format!(
        "UPDATE manual_entries SET natural_key = '{OLD_KEY_WANGWU_BY_OPS}' WHERE user_name = 'wangwu'"
    ))
    .await;
    let out = env.ok(&["import", "manual-entries", "walkins.csv", "--dry-run"]);
    assert!(out.contains("0 would be added, 2 already imported"), "{out}");
    let out = env.ok(&["import", "manual-entries", "walkins.csv"]);
    assert!(out.contains("imported 0"), "{out}");
    assert_eq!(wh.count("SELECT COUNT(*) FROM manual_entries").await, 2);
    // A new row in the same file is still added, once.
    std::fs::write(
        env.path().join("walkins.csv"),
        format!("{WALKINS}2026-11-02 16:00,sunqi,打印机,,是,否,否\n"),
    )
    .unwrap();
    let out = env.ok(&["import", "manual-entries", "walkins.csv", "--dry-run"]);
    assert!(out.contains("3 rows valid, 1 would be added, 2 already imported"), "{out}");
    assert!(out.contains("sunqi") && !out.contains("wangwu"), "lists what would be added: {out}");
    let out = env.ok(&["import", "manual-entries", "walkins.csv"]);
    assert!(out.contains("imported 1 manual entries from walkins.csv (2 already there)"), "{out}");
    assert_eq!(wh.count("SELECT COUNT(*) FROM manual_entries").await, 3);
}

async fn template_example_row_is_not_imported(backend: Backend) {
    let (_dify, env, wh, _) = two_messages(backend).await;
    env.ok(&["import", "template", "walkins.xlsx"]);
    let out = env.ok(&["import", "manual-entries", "walkins.xlsx", "--dry-run"]);
    assert!(out.contains("walkins.xlsx: row 2: the template's example row, skipped"), "{out}");
    assert!(out.contains("0 rows valid, 0 would be added"), "{out}");
    let out = env.ok(&["import", "manual-entries", "walkins.xlsx"]);
    assert!(out.contains("walkins.xlsx: row 2: the template's example row, skipped"), "{out}");
    assert!(out.contains("imported 0"), "{out}");
    assert_eq!(wh.count("SELECT COUNT(*) FROM manual_entries").await, 0);
    // The example row left above real rows (this copy saved as CSV): only the real rows count.
    std::fs::write(
        env.path().join("filled.csv"),
        "用户名,问题,回复,咨询时间,录入人员,知识库命中,是否转人工,人工处理,操作用户\n\
         zhangsan,打印机卡纸了怎么办（示例，请覆盖）,已到现场处理,2026-11-02 09:30,运维,否,是,是,lisi\n\
         wangwu,打印机卡纸了怎么办,已到现场处理,2026-11-02 09:30,运维,否,是,是,lisi\n",
    )
    .unwrap();
    let out = env.ok(&["import", "manual-entries", "filled.csv"]);
    assert!(out.contains("filled.csv: row 2: the template's example row, skipped"), "{out}");
    assert!(out.contains("imported 1"), "{out}");
    assert_eq!(wh.query_strings("SELECT user_name FROM manual_entries").await, ["wangwu"]);
    assert_eq!(totals(&env)["manual_entries"], 1);
}

/// The template as an operator opens it: the Chinese headers, the example row, and a 是/否
/// drop-down on exactly the three flag columns (read from the sheet's XML, which calamine
/// does not expose).
#[test]
fn template_has_yes_no_dropdowns_on_the_flag_columns() {
    let env = Env::new(None, "sqlite://itstat.db", "");
    env.ok(&["import", "template", "t.xlsx"]);
    let bytes = std::fs::read(env.path().join("t.xlsx")).unwrap();
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).unwrap();
    let range = book.worksheet_range("人工录入").unwrap();
    let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(
        rows[0],
        [
            "用户名",
            "问题",
            "回复",
            "咨询时间",
            "录入人员",
            "知识库命中",
            "是否转人工",
            "人工处理",
            "操作用户"
        ]
    );
    assert_eq!(rows.len(), 2, "the header and the example row");
    assert_eq!(
        (rows[1][0].as_str(), &rows[1][5..8]),
        ("zhangsan", &["否", "是", "是"].map(String::from)[..])
    );
    let mut zip = ::zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut xml).unwrap();
    let attr = |tag: &str, name: &str| -> String {
        let start = tag.find(&format!(" {name}=\"")).map(|i| i + name.len() + 3);
        start.and_then(|s| tag[s..].split('"').next()).unwrap_or_default().to_string()
    };
    let mut lists: Vec<(String, String, String)> = xml
        .split("<dataValidation ")
        .skip(1)
        .map(|v| {
            let tag = format!(" {}", v.split('>').next().unwrap_or_default());
            let formula = v.split("<formula1>").nth(1).and_then(|f| f.split("</formula1>").next());
            (attr(&tag, "sqref"), attr(&tag, "type"), formula.unwrap_or_default().replace("&quot;", "\""))
        })
        .collect();
    lists.sort();
    let want = |cols: &str| (cols.to_string(), "list".to_string(), "\"是,否\"".to_string());
    assert_eq!(lists, [want("F2:F2001"), want("G2:G2001"), want("H2:H2001")], "{xml}");
}

/// Reads the workbook's Manual sheet (人工): each row as text, times as `YYYY-MM-DD HH:MM`.
fn manual_sheet(path: &std::path::Path) -> Vec<Vec<String>> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(std::fs::read(path).unwrap())).unwrap();
    let range = book.worksheet_range("人工").unwrap();
    range
        .rows()
        .skip(1)
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::DateTime(t) => t.as_datetime().unwrap().format("%Y-%m-%d %H:%M").to_string(),
                    c => c.to_string(),
                })
                .collect()
        })
        .collect()
}

/// One table of `itstat export`, read back whole.
fn exported(dir: &std::path::Path) -> DataFrame {
    let args = ScanArgsParquet { hive_options: HiveOptions::new_enabled(), ..Default::default() };
    LazyFrame::scan_parquet(PlRefPath::try_from_path(dir).unwrap(), args).unwrap().collect().unwrap()
}

/// A boolean column of the exported row of one message.
fn exported_flag(df: &DataFrame, id: &uuid::Uuid, column: &str) -> Option<bool> {
    let row = df.clone().lazy().filter(col("message_id").eq(lit(id.to_string()))).collect().unwrap();
    row.column(column).unwrap().bool().unwrap().get(0)
}

async fn late_legacy_marks_do_not_override_newer_ones(backend: Backend) {
    let (_dify, env, wh, [a, b]) = two_messages(backend).await;
    // Today an operator marks zhangsan's message as handled by a human...
    env.ok(&["mark", &a.to_string(), "--manual", "--operator", "wang", "--note", "电话支持"]);
    // ...then the legacy platform is migrated, late: its rows are from November. b has two
    // legacy rows (the later one, a hit, listed first); one row of a carries no time at all.
    let legacy = TestDb::create("legacy").await;
    legacy
        .exec(&format!(
            "{LEGACY_SCHEMA}
             INSERT INTO manual_intervention VALUES
                 ('{a}', false, 'zhou', 'q', 'zhangsan', NULL, '2026-11-02 11:00', '2026-11-02 11:05'),
                 ('{b}', NULL, 'zhou', 'q', 'lisi', '命中', '2026-11-02 12:00', '2026-11-02 12:30'),
                 ('{b}', NULL, 'zhou', 'q', 'lisi', '未命中', '2026-11-02 10:30', NULL),
                 ('{a}', NULL, 'zhou', 'q', 'zhangsan', '命中', NULL, NULL);"
        ))
        .await;
    let out = env.ok(&["import", "legacy", "--from", &legacy.url]);
    assert!(out.contains("migrated 4 marks (of 4)"), "{out}");
    // wang's mark is the newest, so a stays manual; b's 12:30 row beats its 10:30 one.
    let t = totals(&env);
    assert_eq!((t["manual_sessions"].as_i64(), t["kb_hits"].as_i64()), (Some(1), Some(2)));
    assert_eq!(wh.count("SELECT COUNT(*) FROM sessions WHERE is_manual = TRUE").await, 1);
    let listed = env.ok(&["messages", "--since", "2026-11-01", "--manual", "--format", "json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["id"], a.to_string());
    let history = env.ok(&["mark", "--history", &a.to_string()]);
    assert!(history.contains("current: manual=yes"), "{history}");
    // The row without a time is dated by its message (09:00 local), not by 1970.
    assert!(history.contains("2026-11-02 09:00:00  zhou"), "{history}");
    assert!(!history.contains("1970"), "{history}");
    let show = env.ok(&["messages", "show", &a.to_string()]);
    assert!(show.contains("manual    yes — marked by wang"), "{show}");
    let show = env.ok(&["messages", "show", &b.to_string()]);
    assert!(show.contains("kb hit    yes — operator zhou marked kb_hit=yes"), "{show}");
    // The workbook's Manual sheet lists the same current marks.
    env.ok(&["report", "--date", "2026-11-02"]);
    let sheet = manual_sheet(&env.path().join("reports/itstat-day-2026-11-02.xlsx"));
    let marks: Vec<String> = sheet
        .iter()
        .filter(|r| r[0] == "人工标记")
        .map(|r| format!("{} {} {} {}", &r[7][..8], r[4], r[5], r[1]))
        .collect();
    let (a8, b8) = (&a.to_string()[..8], &b.to_string()[..8]);
    let wanted =
        [format!("{a8} kb_hit=yes zhou 2026-11-02 09:00"), format!("{b8} kb_hit=yes zhou 2026-11-02 12:30")];
    assert_eq!(marks[..2], wanted, "{sheet:?}");
    assert!(marks.len() == 3 && marks[2].starts_with(&format!("{a8} manual=yes wang")), "{sheet:?}");
    // So does the export.
    env.ok(&["export", "--out", "dataset"]);
    let df = exported(&env.path().join("dataset/messages"));
    assert_eq!(exported_flag(&df, &a, "manual_mark"), Some(true));
    assert_eq!(exported_flag(&df, &b, "kb_mark"), Some(true));
    // A second migration adds nothing, the undated row included.
    let out = env.ok(&["import", "legacy", "--from", &legacy.url]);
    assert!(out.contains("migrated 0 marks (of 4)"), "{out}");
}

/// `text` (a CSV with a header) with `column` set to `value` in the row whose first cell is `id`.
fn edit_csv(text: &str, id: &str, column: &str, value: &str) -> String {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let at = headers.iter().position(|h| h == column).unwrap();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&headers).unwrap();
    let mut edited = 0;
    for row in reader.records() {
        let mut cells: Vec<String> = row.unwrap().iter().map(str::to_string).collect();
        if cells[0] == id {
            cells[at] = value.to_string();
            edited += 1;
        }
        writer.write_record(&cells).unwrap();
    }
    assert_eq!(edited, 1, "{id} in {text}");
    String::from_utf8(writer.into_inner().unwrap()).unwrap()
}

async fn mark_takes_the_csv_messages_prints(backend: Backend) {
    let (_dify, env, wh, [a, b]) = two_messages(backend).await;
    // Filter, keep the file as printed, mark every message in it.
    let csv = env.ok(&["messages", "--since", "2026-11-01", "--user", "zhangsan", "--format", "csv"]);
    std::fs::write(env.path().join("zhangsan.csv"), &csv).unwrap();
    let out = env.ok(&["mark", "--from-file", "zhangsan.csv", "--manual", "--operator", "wang"]);
    assert!(out.contains("manual=yes by wang"), "{out}");
    assert_eq!(wh.count("SELECT COUNT(*) FROM marks").await, 1, "kept values write nothing");
    assert_eq!(totals(&env)["manual_sessions"], 1);
    // Edit one cell of the whole list: that change is written, the kept rows change nothing.
    let csv = env.ok(&["messages", "--since", "2026-11-01", "--format", "csv"]);
    std::fs::write(env.path().join("all.csv"), edit_csv(&csv, &b.to_string(), "kb_hit", "true")).unwrap();
    let out = env.ok(&["mark", "--from-file", "all.csv", "--operator", "wang"]);
    assert!(
        out.contains(&format!("marked {}", &b.to_string()[..8])) && out.contains("kb_hit=yes by wang"),
        "{out}"
    );
    assert!(out.contains(&format!("unchanged {}", &a.to_string()[..8])), "{out}");
    assert_eq!(wh.count("SELECT COUNT(*) FROM marks").await, 2, "one mark per change");
    let t = totals(&env);
    assert_eq!((t["kb_hits"].as_i64(), t["manual_sessions"].as_i64()), (Some(2), Some(1)));
    // A column that `mark` does not read and `messages` does not print is still an error.
    std::fs::write(env.path().join("colour.csv"), format!("id,manual,colour\n{a},否,red\n")).unwrap();
    let err = env.fails(&["mark", "--from-file", "colour.csv"], 1);
    assert!(
        error_line(&err).contains("colour.csv: column \"colour\" is not one of id, manual, kb_hit, note"),
        "{err}"
    );
    assert_eq!(wh.count("SELECT COUNT(*) FROM marks").await, 2);
}

async fn messages_filters_narrow_the_list(backend: Backend) {
    let mut s = Small::new();
    let m1 = s
        .msg(Msg { query: "电脑蓝屏", ..Msg::new("zhangsan", "2026-11-01 09:00:00", "请重启电脑") });
    let m2 =
        s.msg(Msg { query: "VPN 连不上", ..Msg::new("lisi", "2026-11-02 10:00:00", "请联系IT同事") });
    let m3 = s
        .msg(Msg {
            query: "打印机卡纸", ..Msg::new("wangwu", "2026-11-03 11:00:00", "打开后盖取出纸张")
        });
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    env.ok(&["ingest"]);
    env.ok(&["mark", &m3.to_string(), "--manual"]);
    let ids = |filters: &[&str]| -> Vec<String> {
        let mut args = vec!["messages", "--since", "2026-11-01", "--format", "json"];
        args.extend_from_slice(filters);
        let listed: serde_json::Value = serde_json::from_str(&env.ok(&args)).unwrap();
        listed.as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()).collect()
    };
    let [m1, m2, m3] = [m1, m2, m3].map(|id| id.to_string());
    let (m1, m2, m3) = (m1.as_str(), m2.as_str(), m3.as_str());
    assert_eq!(ids(&[]), [m1, m2, m3]);
    assert_eq!(ids(&["--grep", "vpn"]), [m2], "any case, in the question");
    assert_eq!(ids(&["--grep", "后盖"]), [m3], "in the answer");
    assert_eq!(ids(&["--transfer"]), [m2]);
    assert_eq!(ids(&["--manual"]), [m3]);
    assert_eq!(ids(&["--limit", "2"]), [m2, m3], "the newest two, oldest first");
    assert_eq!(ids(&["--until", "2026-11-02"]), [m1, m2], "--until includes its date");
    assert_eq!(ids(&["--until", "2026-11-01", "--grep", "vpn"]), Vec::<&str>::new());
    let csv = env.ok(&["messages", "--since", "2026-11-01", "--transfer", "--format", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,time,user,question,answer,state,kb_hit,transfer,manual,session_id");
    assert_eq!(
        lines[1..],
        [format!("{m2},2026-11-02 10:00:00,lisi,VPN 连不上,请联系IT同事,answered,true,true,false,{m2}")]
    );
}

async fn manual_sheet_lists_the_marks_and_entries_of_the_period(backend: Backend) {
    let (_dify, env, _wh, [a, _b]) = two_messages(backend).await;
    env.ok(&["mark", &a.to_string(), "--manual", "--operator", "wang", "--note", "电话支持"]);
    std::fs::write(env.path().join("walkins.csv"), WALKINS).unwrap();
    env.ok(&["import", "manual-entries", "walkins.csv", "--operator", "ops"]);
    // An entry of the next day is not in the day's sheet.
    std::fs::write(env.path().join("later.csv"), "用户名,问题,咨询时间\nsunqi,打印机,2026-11-03 09:00\n")
        .unwrap();
    env.ok(&["import", "manual-entries", "later.csv", "--operator", "ops"]);
    env.ok(&["report", "--date", "2026-11-02"]);
    let sheet = manual_sheet(&env.path().join("reports/itstat-day-2026-11-02.xlsx"));
    let entry = |time: &str, user: &str, question: &str, what: &str| -> Vec<String> {
        ["人工录入", time, user, question, what, "ops", "", ""].map(str::to_string).to_vec()
    };
    assert_eq!(sheet.len(), 3, "{sheet:?}");
    assert_eq!(
        sheet[..2],
        [
            entry(
                "2026-11-02 14:00",
                "wangwu",
                "显示器不亮",
                "knowledge_hit=no, transfer_to_human=no, manual_intervention=yes"
            ),
            entry(
                "2026-11-02 15:30",
                "zhaoliu",
                "VPN",
                "knowledge_hit=yes, transfer_to_human=no, manual_intervention=no"
            ),
        ]
    );
    // The mark, made now, sorts last.
    let mark =
        [&sheet[2][0], &sheet[2][2], &sheet[2][3], &sheet[2][4], &sheet[2][5], &sheet[2][6], &sheet[2][7]];
    assert_eq!(mark, ["人工标记", "zhangsan", "电脑蓝屏", "manual=yes", "wang", "电话支持", &a.to_string()]);
}

async fn users_with_messages_and_entries_count_once(backend: Backend) {
    let (_dify, env, wh, _) = two_messages(backend).await;
    // zhangsan asked the bot and also walked in; wangwu only walked in. The headers are the
    // other Chinese names of answer, entry_person and manual_intervention.
    std::fs::write(
        env.path().join("walkins.csv"),
        "用户,问题,答案,咨询时间,录入人员,人工操作\n\
         zhangsan,打印机,换硒鼓,2026-11-02 16:00,小李,是\n\
         wangwu,VPN,重装客户端,2026-11-02 17:00,小李,否\n",
    )
    .unwrap();
    env.ok(&["import", "manual-entries", "walkins.csv", "--operator", "ops"]);
    assert_eq!(
        wh.count("SELECT COUNT(*) FROM manual_entries WHERE answer = '换硒鼓' AND entry_person = '小李' AND manual_intervention = TRUE").await,
        1
    );
    assert_eq!(wh.count("SELECT COUNT(*) FROM manual_entries WHERE manual_intervention = FALSE").await, 1);
    let t = totals(&env);
    // users: zhangsan, lisi, wangwu. sessions: 2 bot + 2 entries.
    assert_eq!(
        (
            t["users"].as_i64(),
            t["sessions"].as_i64(),
            t["manual_entries"].as_i64(),
            t["manual_sessions"].as_i64()
        ),
        (Some(3), Some(4), Some(2), Some(1))
    );
}

/// `itstat messages` applies the effective flags in SQL (sql/warehouse/list_messages.sql);
/// `transform::marks` is the same rule in Rust, for the reports and `mark`. Both must agree on
/// every combination of state, rule verdict, kb mark (none, auto, yes, no) and manual mark
/// (none, yes, no): in the flags listed, in what `--unhit` and `--manual` keep, and under a
/// `--limit` applied after the filters.
async fn listed_flags_follow_the_marks_rule(backend: Backend) {
    use itstat::transform::marks::{effective, is_unhit};
    use itstat::transform::messages::MessageState;
    let states = ["answered", "error", "pending"];
    let kb_marks: [Option<Option<bool>>; 4] = [None, Some(None), Some(Some(true)), Some(Some(false))];
    let manual_marks = [None, Some(true), Some(false)];
    let mut cases = Vec::new();
    for state in states {
        for kb_rule in [true, false] {
            for kb_mark in kb_marks {
                for manual_mark in manual_marks {
                    cases.push((state, kb_rule, kb_mark, manual_mark));
                }
            }
        }
    }
    let mut s = Small::new();
    let start = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_opt(8, 0, 0).unwrap();
    let times: Vec<String> = (0..cases.len())
        .map(|i| (start + chrono::Duration::minutes(i as i64)).format("%Y-%m-%d %H:%M:%S").to_string())
        .collect();
    let ids: Vec<String> =
        times.iter().map(|t| s.msg(Msg::new("zhangsan", t, "请重启电脑")).to_string()).collect();
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    env.ok(&["ingest"]);
    // Each message gets its case's stored facts.
    let flag = |v: Option<bool>| v.map_or("NULL", |v| if v { "TRUE" } else { "FALSE" });
    let mut sql = String::new();
    for (id, (state, kb_rule, kb_mark, manual_mark)) in ids.iter().zip(&cases) {
        sql += &format!(
            "UPDATE messages SET state = '{state}', kb_hit = {} WHERE message_id = '{id}';\n",
            flag(Some(*kb_rule))
        );
        let mut mark = |field: &str, value: Option<bool>| {
            sql += &format!(
                "INSERT INTO marks (message_id, field, value, operator, marked_at, source) VALUES ('{id}', '{field}', {}, 'wang', '2026-11-03 00:00:00', 'cli');\n",
                flag(value)
            );
        };
        if let Some(v) = kb_mark {
            mark("kb_hit", *v);
        }
        if let Some(v) = manual_mark {
            mark("manual", Some(*v));
        }
    }
    wh.exec(&sql).await;
    // What the Rust rule says of each message, oldest first.
    let expected: Vec<(String, bool, bool)> = ids
        .iter()
        .zip(&cases)
        .map(|(id, (state, kb_rule, kb_mark, manual_mark))| {
            let state = MessageState::from_stored(state);
            let (kb, manual) = effective(state, *kb_rule, kb_mark.flatten(), *manual_mark);
            (id.clone(), kb, manual)
        })
        .collect();
    let unhit = |id: &str| {
        let i = ids.iter().position(|x| x == id).unwrap();
        is_unhit(MessageState::from_stored(cases[i].0), expected[i].1)
    };
    let listed = |filters: &[&str]| -> Vec<serde_json::Value> {
        let mut args = vec!["messages", "--since", "2026-11-01", "--format", "json"];
        args.extend_from_slice(filters);
        serde_json::from_str::<serde_json::Value>(&env.ok(&args)).unwrap().as_array().unwrap().clone()
    };
    let all = listed(&["--limit", "1000"]);
    assert_eq!(all.len(), cases.len());
    for (row, (id, kb, manual)) in all.iter().zip(&expected) {
        assert_eq!(row["id"], *id);
        assert_eq!((row["kb_hit"].as_bool(), row["manual"].as_bool()), (Some(*kb), Some(*manual)), "{row}");
    }
    let listed_ids = |filters: &[&str]| -> Vec<String> {
        listed(filters).iter().map(|m| m["id"].as_str().unwrap().to_string()).collect()
    };
    let want_unhit: Vec<String> = ids.iter().filter(|id| unhit(id)).cloned().collect();
    let want_manual: Vec<String> = expected.iter().filter(|e| e.2).map(|e| e.0.clone()).collect();
    assert!(!want_unhit.is_empty() && !want_manual.is_empty());
    assert_eq!(listed_ids(&["--unhit", "--limit", "1000"]), want_unhit);
    assert_eq!(listed_ids(&["--manual", "--limit", "1000"]), want_manual);
    let both: Vec<String> = want_unhit.iter().filter(|id| want_manual.contains(id)).cloned().collect();
    assert_eq!(listed_ids(&["--unhit", "--manual", "--limit", "1000"]), both);
    // The limit keeps the newest of the filtered messages, not of all.
    assert_eq!(listed_ids(&["--unhit", "--limit", "3"]), want_unhit[want_unhit.len() - 3..]);
}

/// The table's short ids: the shortest of 8, 13, 18 or 23 characters that names only one
/// stored message, decided by its neighbours among all stored ids (listed or not); prefixes
/// resolve as key ranges.
async fn short_ids_are_the_shortest_unique_prefixes(backend: Backend) {
    let mut s = Small::new();
    let old = s.msg(Msg::new("zhaoliu", "2026-10-01 09:00:00", "请重启电脑"));
    let listed: Vec<uuid::Uuid> = ["09:00:00", "09:10:00", "09:20:00", "09:30:00"]
        .iter()
        .map(|t| s.msg(Msg::new("zhangsan", &format!("2026-11-02 {t}"), "请重启电脑")))
        .collect();
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    env.ok(&["ingest"]);
    let new_ids = [
        "abcdef01-1111-4000-8000-000000000001",
        "abcdef02-1111-4000-8000-000000000001",
        "abcdef02-1111-4000-9000-000000000001",
        "ffffffff-2222-4000-8000-000000000001",
    ];
    let mut sql = String::new();
    for (from, to) in listed.iter().zip(new_ids) {
        sql += &format!("UPDATE messages SET message_id = '{to}' WHERE message_id = '{from}';\n");
    }
    // Stored, outside the listed days: it still makes its neighbour's short id longer.
    sql += &format!(
        "UPDATE messages SET message_id = 'ffffffff-2223-4000-8000-000000000001' WHERE message_id = '{old}';"
    );
    wh.exec(&sql).await;
    let table = env.ok(&["messages", "--since", "2026-11-01"]);
    let cells: Vec<&str> = table.split(['│', '┆', '\n']).map(str::trim).collect();
    for shown in ["abcdef01", "abcdef02-1111-4000-8000", "abcdef02-1111-4000-9000", "ffffffff-2222"] {
        assert!(cells.contains(&shown), "{shown} in {table}");
    }
    // Prefixes are key ranges: a shorter one is ambiguous, a longer one (any case, ending
    // anywhere) names one message, whether listed or not.
    let err = env.fails(&["mark", "abcdef02", "--manual"], 1);
    assert!(
        error_line(&err)
            .contains(&format!("`abcdef02` is ambiguous, it starts {}, {}", new_ids[1], new_ids[2])),
        "{err}"
    );
    let out = env.ok(&["mark", "ABCDEF02-1111-4000-9", "--manual", "--operator", "wang"]);
    assert!(out.contains("marked abcdef02") && out.contains("manual=yes by wang"), "{out}");
    assert_eq!(wh.query_strings("SELECT message_id FROM marks").await, [new_ids[2]]);
    let show = env.ok(&["messages", "show", "ffffffff-2223"]);
    assert!(show.contains("message   ffffffff-2223-4000-8000-000000000001"), "{show}");
    let err = env.fails(&["messages", "show", "abcdef0"], 1);
    assert!(error_line(&err).contains("is ambiguous"), "{err}");
    let err = env.fails(&["messages", "show", "abcdef03"], 1);
    assert!(error_line(&err).contains("`abcdef03`: no message has this id"), "{err}");
}

/// How many statements a run sent to the warehouse (sqlx logs each one at trace level).
fn statements(env: &Env, args: &[&str]) -> (usize, String) {
    let out = env.command(args).env("ITSTAT_LOG", "itstat=warn,sqlx::query=trace").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "itstat {args:?}: {stderr}");
    // Each statement's event ends with its timing (the log lines do not name their target).
    let n = stderr.matches("elapsed_secs=").count();
    (n, stdout)
}

/// `mark --from-file` with thousands of ids, and a listing of thousands with short ids, cost a
/// few statements, not one or more per id; the errors of a bad id among them are as for one.
async fn thousands_of_ids_cost_a_few_queries(backend: Backend) {
    let data = itstat::demo::generator::generate(&itstat::demo::generator::GenConfig {
        messages: 2_500,
        days: 5,
        users: 40,
        seed: 3,
        ..Default::default()
    });
    let dify = dify_with(&data, SchemaVersion::V1_14).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    env.ok(&["ingest"]);
    let included = wh.count("SELECT COUNT(*) FROM messages WHERE included").await;
    assert!(included > 2_000, "{included}");
    let (n, table) = statements(&env, &["messages", "--since", "2020-01-01", "--limit", "100000"]);
    assert!(table.contains(&format!("{included} messages;")), "{table}");
    // One for the listing, one per 500 short ids, and those of opening the warehouse.
    assert!((5..=25).contains(&n), "{n} statements for a listing of {included}");
    let ids: Vec<String> = wh.query_strings("SELECT message_id FROM messages ORDER BY message_id").await;
    // Short prefixes as typed (unique at 12 characters here), one id typed twice.
    let mut typed: Vec<String> = ids.iter().map(|id| id[..12].to_string()).collect();
    typed.push(ids[0].clone());
    std::fs::write(env.path().join("ids.txt"), typed.join("\n")).unwrap();
    // One unknown id among them: nothing written, one error naming it.
    std::fs::write(env.path().join("bad.txt"), format!("{}\nffffffff-0000\n", typed.join("\n"))).unwrap();
    let err = env.fails(&["mark", "--from-file", "bad.txt", "--manual"], 1);
    assert!(error_line(&err).contains("`ffffffff-0000`: no message has this id"), "{err}");
    assert_eq!(wh.count("SELECT COUNT(*) FROM marks").await, 0);
    let (n, out) = statements(&env, &["mark", "--from-file", "ids.txt", "--manual", "--operator", "wang"]);
    assert_eq!(out.matches("manual=yes by wang").count(), typed.len(), "{out}");
    // Four kinds of batch of 500 ids, the session pass, and those of opening the warehouse.
    assert!((10..=60).contains(&n), "{n} statements to mark {} ids", typed.len());
    assert_eq!(wh.count("SELECT COUNT(*) FROM marks").await, typed.len() as i64);
    assert_eq!(
        wh.count("SELECT COUNT(*) FROM sessions WHERE is_manual = FALSE").await,
        0,
        "every session holds a marked message"
    );
}

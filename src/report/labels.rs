//! Words shown to readers, in Chinese (default) and English: KPI names, their definitions,
//! sheet names and column headers. Every renderer (workbook, Markdown, email) takes its words
//! from here, so the formats use the same names.

/// The label language, parsed by the config (`[report] lang`, `report --lang`).
use crate::calendar::Lang;
use crate::transform::messages::MessageState;

impl Lang {
    /// Picks the text of this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// How a KPI is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KpiKind {
    /// An integer count.
    Count,
    /// A fraction in [0, 1], shown as a percent.
    Rate,
    /// Seconds.
    Seconds,
}

/// One KPI of docs/metrics.md §5: its JSON key, labels, kind and definition.
#[derive(Debug, Clone, Copy)]
pub struct KpiLabel {
    pub key: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub kind: KpiKind,
    pub def_zh: &'static str,
    pub def_en: &'static str,
}

impl KpiLabel {
    /// The label in `lang`.
    pub fn name(&self, lang: Lang) -> &'static str {
        lang.pick(self.zh, self.en)
    }

    /// The definition in `lang`.
    pub fn definition(&self, lang: Lang) -> &'static str {
        lang.pick(self.def_zh, self.def_en)
    }
}

const fn kpi(
    key: &'static str,
    zh: &'static str,
    en: &'static str,
    kind: KpiKind,
    def_zh: &'static str,
    def_en: &'static str,
) -> KpiLabel {
    KpiLabel { key, zh, en, kind, def_zh, def_en }
}

use KpiKind::{Count, Rate, Seconds};

/// Every KPI in the order of the contract.
pub const KPIS: &[KpiLabel] = &[
    kpi(
        "messages",
        "消息数",
        "Messages",
        Count,
        "统计期内（按本地日期）计入的机器人消息数，不含调试消息和排除的用户。",
        "Bot messages dated in the period (local date), without debugger traffic and excluded users.",
    ),
    kpi(
        "answered",
        "已回答",
        "Answered",
        Count,
        "状态为 normal 且回答去除空白后不为空的消息。",
        "Messages with status normal and a non-blank answer.",
    ),
    kpi("errors", "出错", "Errors", Count, "状态为 error 的消息。", "Messages with status error."),
    kpi(
        "pending",
        "未完成",
        "Pending",
        Count,
        "回答为空或暂停中的消息（后续运行会再次读取）。",
        "Messages with a blank answer or paused (re-read by later runs).",
    ),
    kpi(
        "kb_hits",
        "知识库命中",
        "KB hits",
        Count,
        "已回答且回答不含“未命中”话术的消息；人工标记可覆盖。",
        "Answered messages whose answer contains no knowledge-base miss phrase; an operator mark overrides.",
    ),
    kpi("kb_hit_rate", "知识库命中率", "KB hit rate", Rate, "知识库命中 ÷ 已回答。", "KB hits ÷ answered."),
    kpi(
        "transfer_messages",
        "转人工消息",
        "Transfer messages",
        Count,
        "已回答且回答含“转人工”话术的消息。",
        "Answered messages whose answer contains a transfer phrase.",
    ),
    kpi(
        "bot_sessions",
        "机器人会话",
        "Bot sessions",
        Count,
        "同一用户在窗口（默认 15 分钟）内的消息为一个会话，会话计入其开始的日期。",
        "A user's messages within the window (15 minutes by default) form one session, counted on the day it starts.",
    ),
    kpi(
        "manual_entries",
        "人工录入",
        "Manual entries",
        Count,
        "机器人之外处理、由运维人员导入的咨询；每条算一个会话。",
        "Consultations handled outside the bot and imported by operators; each counts as one session.",
    ),
    kpi(
        "sessions",
        "会话总数",
        "Sessions",
        Count,
        "机器人会话 + 人工录入。",
        "Bot sessions + manual entries.",
    ),
    kpi(
        "users",
        "用户数",
        "Users",
        Count,
        "机器人消息与人工录入中不同的用户。",
        "Distinct users over bot messages and manual entries.",
    ),
    kpi(
        "transfer_sessions",
        "转人工会话",
        "Transfer sessions",
        Count,
        "含转人工消息的会话 + 标记转人工的人工录入。",
        "Sessions with a transfer message + manual entries marked transferred.",
    ),
    kpi(
        "manual_sessions",
        "人工咨询会话",
        "Manual sessions",
        Count,
        "有人工处理标记的会话 + 标记人工处理的人工录入。",
        "Sessions with a manual-handling mark + manual entries marked manual.",
    ),
    kpi(
        "self_resolved_sessions",
        "自助解决会话",
        "Self-resolved sessions",
        Count,
        "有已回答消息、无转人工、无人工处理的会话（含同样条件的人工录入）。",
        "Sessions with an answered message, no transfer and no manual handling (manual entries likewise).",
    ),
    kpi(
        "self_resolution_rate",
        "自助解决率",
        "Self-resolution rate",
        Rate,
        "自助解决会话 ÷ 会话总数。",
        "Self-resolved sessions ÷ sessions.",
    ),
    kpi(
        "transfer_rate",
        "转人工率",
        "Transfer rate",
        Rate,
        "转人工会话 ÷ 会话总数。",
        "Transfer sessions ÷ sessions.",
    ),
    kpi(
        "manual_rate",
        "人工咨询率",
        "Manual rate",
        Rate,
        "人工咨询会话 ÷ 会话总数。",
        "Manual sessions ÷ sessions.",
    ),
    kpi(
        "likes",
        "点赞",
        "Likes",
        Count,
        "至少有一个点赞（用户或管理员）的消息。",
        "Messages with at least one like (user or admin).",
    ),
    kpi(
        "dislikes",
        "点踩",
        "Dislikes",
        Count,
        "至少有一个点踩（用户或管理员）的消息。",
        "Messages with at least one dislike (user or admin).",
    ),
    kpi(
        "satisfaction_rate",
        "满意度",
        "Satisfaction",
        Rate,
        "点赞 ÷（点赞 + 点踩）。",
        "Likes ÷ (likes + dislikes).",
    ),
    kpi(
        "tokens",
        "Token 用量",
        "Tokens",
        Count,
        "提问与回答 token 之和。",
        "Sum of prompt and answer tokens.",
    ),
    kpi(
        "latency_avg_s",
        "平均响应时间（秒）",
        "Average latency (s)",
        Seconds,
        "已回答消息的平均生成时间。",
        "Mean generation time of answered messages.",
    ),
    kpi(
        "latency_p95_s",
        "P95 响应时间（秒）",
        "P95 latency (s)",
        Seconds,
        "已回答消息生成时间的 95 分位（线性插值）。",
        "95th percentile of the generation time of answered messages (linear interpolation).",
    ),
];

/// The KPI label of a key.
pub fn kpi_label(key: &str) -> Option<&'static KpiLabel> {
    KPIS.iter().find(|k| k.key == key)
}

/// The headline KPIs of summaries (email, Markdown), in order.
pub const HEADLINE: &[&str] = &[
    "messages",
    "sessions",
    "users",
    "kb_hit_rate",
    "self_resolution_rate",
    "transfer_rate",
    "manual_rate",
    "satisfaction_rate",
    "latency_avg_s",
];

/// The report's name: "IT客服机器人日报" / "IT help desk bot daily report".
pub fn report_title(kind: crate::calendar::PeriodKind, lang: Lang) -> &'static str {
    use crate::calendar::PeriodKind::*;
    match (kind, lang) {
        (Day, Lang::Zh) => "IT客服机器人日报",
        (Week, Lang::Zh) => "IT客服机器人周报",
        (Month, Lang::Zh) => "IT客服机器人月报",
        (Custom, Lang::Zh) => "IT客服机器人报告",
        (Day, Lang::En) => "IT help desk bot daily report",
        (Week, Lang::En) => "IT help desk bot weekly report",
        (Month, Lang::En) => "IT help desk bot monthly report",
        (Custom, Lang::En) => "IT help desk bot report",
    }
}

/// A message state in words.
pub fn state_name(state: MessageState, lang: Lang) -> &'static str {
    match state {
        MessageState::Answered => lang.pick("已回答", "answered"),
        MessageState::Error => lang.pick("出错", "error"),
        MessageState::Pending => lang.pick("未完成", "pending"),
    }
}

/// Yes/no in words.
pub fn yes_no(value: bool, lang: Lang) -> &'static str {
    match (value, lang) {
        (true, Lang::Zh) => "是",
        (false, Lang::Zh) => "否",
        (true, Lang::En) => "yes",
        (false, Lang::En) => "no",
    }
}

/// The words of the topics list (docs/topics.md, "Where it shows"): the workbook's 话题 /
/// Topics sheet, and any other renderer that lists topics, so they name things alike.
#[derive(Debug, Clone, Copy)]
pub struct TopicWords {
    pub sheet: &'static str,
    pub id: &'static str,
    pub topic: &'static str,
    pub count: &'static str,
    pub change: &'static str,
    pub kb_hit_rate: &'static str,
    /// Transfers ÷ answered of the topic (docs/metrics.md §9), not the sessions' rate of
    /// [`KPIS`].
    pub transfer_rate: &'static str,
    pub dislikes: &'static str,
    pub new: &'static str,
    /// What a new topic shows in the `new` column.
    pub new_mark: &'static str,
    pub chart_title: &'static str,
    /// The note of a period without topics.
    pub none: &'static str,
    /// The note when the report did not compute topics.
    pub not_computed: &'static str,
}

/// The topics list's words in `lang`.
pub fn topic_words(lang: Lang) -> TopicWords {
    match lang {
        Lang::Zh => TopicWords {
            sheet: "话题",
            id: "ID",
            topic: "话题",
            count: "消息数",
            change: "变化",
            kb_hit_rate: "知识库命中率",
            transfer_rate: "转人工率",
            dislikes: "点踩",
            new: "新",
            new_mark: "新",
            chart_title: "消息数前 10 的话题",
            none: "本期没有话题。",
            not_computed: "本报告未计算话题。",
        },
        Lang::En => TopicWords {
            sheet: "Topics",
            id: "ID",
            topic: "Topic",
            count: "Messages",
            change: "Change",
            kb_hit_rate: "KB hit rate",
            transfer_rate: "Transfer rate",
            dislikes: "Dislikes",
            new: "New",
            new_mark: "new",
            chart_title: "Top 10 topics by messages",
            none: "No topics in this period.",
            not_computed: "Topics were not computed for this report.",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_contract_key_has_a_label_in_order() {
        let json = serde_json::to_value(crate::transform::kpi::Kpis::default()).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        let labels: Vec<&str> = KPIS.iter().map(|k| k.key).collect();
        assert_eq!(keys, labels);
        assert!(HEADLINE.iter().all(|k| kpi_label(k).is_some()));
    }
}

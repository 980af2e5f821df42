//! Naming a new topic by the chat model of `[gaps]` (docs/topics.md, "Titles"): once, when the
//! topic is made; a later run never renames it (only `itstat topics rename` does).

use tracing::warn;

use crate::calendar::Lang;
use crate::config::Settings;
use crate::gaps::service::Service;
use crate::transform::gaps::Distinct;
use crate::transform::topics::NewTopic;

/// How many new topics one run asks the chat model to name (each is one request); the
/// largest first.
pub const NAMED_TOPICS: usize = 20;
/// How many of a topic's questions the chat model sees.
const SHOWN: usize = 8;

/// The chat model's name for each of `topics` (largest first), `None` where it was not asked
/// (no chat model, a topic of one distinct question — its question names it — or beyond
/// [`NAMED_TOPICS`]) or could not answer. A failure stops the asking: the rest keep their
/// most asked question.
pub async fn name(settings: &Settings, questions: &[Distinct], topics: &[NewTopic]) -> Vec<Option<String>> {
    let mut names = vec![None; topics.len()];
    let (Some(base), Some(model)) = (settings.gaps.chat_url.as_deref(), settings.gaps.chat_model.as_deref())
    else {
        return names;
    };
    let Ok(service) = Service::new(base, settings) else { return names };
    let chinese = settings.report.lang == Lang::Zh;
    let asked = topics.iter().enumerate().filter(|(_, t)| t.members.len() >= 2).take(NAMED_TOPICS);
    for (k, topic) in asked {
        let examples: Vec<String> =
            topic.members.iter().take(SHOWN).map(|&i| questions[i].text.clone()).collect();
        match service.name(model, &examples, chinese).await {
            Ok(name) => names[k] = Some(name),
            Err(e) => {
                warn!(error = %crate::error::one_line(&e), "The chat model could not name a topic; using its most asked question.");
                break;
            }
        }
    }
    names
}

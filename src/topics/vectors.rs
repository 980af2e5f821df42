//! A vector per question from the embeddings service of `[gaps]` (docs/topics.md, "By
//! meaning"): the warehouse's cache first (`gap_vectors`, by model and wording key), then the
//! service ([`crate::gaps::service`]) batch by batch, each batch cached as it arrives, so a
//! service that fails half-way keeps what it gave for the next report.
//!
//! It never fails a report because of the service: what could not be had is `None`, and the
//! warning says why, naming the service by host only.

use std::collections::HashMap;

use tracing::warn;

use crate::config::Settings;
use crate::gaps::service::{self, Service};
use crate::warehouse::Warehouse;

/// What the service gave.
#[derive(Debug, Default)]
pub struct Fetched {
    /// Per question asked about, its vector when one could be had.
    pub vectors: Vec<Option<Vec<f32>>>,
    /// Why some could not be had: the service and its error.
    pub warning: Option<String>,
}

/// A vector per `(wording key, text)` where one can be had (see the module docs). Nothing is
/// asked when `[gaps] embeddings_url` is unset.
pub async fn fetch(
    wh: &Warehouse,
    settings: &Settings,
    questions: &[(String, String)],
) -> anyhow::Result<Fetched> {
    let Some(base) = settings.gaps.embeddings_url.as_deref() else {
        return Ok(Fetched { vectors: vec![None; questions.len()], warning: None });
    };
    let model = &settings.gaps.embeddings_model;
    let keys: Vec<String> = questions.iter().map(|q| q.0.clone()).collect();
    let cached = wh.cached_vectors(model, &keys).await?;
    let missing: Vec<usize> =
        (0..questions.len()).filter(|&i| !cached.contains_key(&questions[i].0)).collect();
    let mut got: HashMap<String, Vec<f32>> = HashMap::new();
    let mut warning = None;
    if !missing.is_empty() {
        let service = Service::new(base, settings);
        let mut dims = cached.values().next().map(Vec::len);
        for batch in missing.chunks(service::BATCH) {
            let texts: Vec<String> = batch.iter().map(|&i| questions[i].1.clone()).collect();
            let asked = match &service {
                Ok(service) => service.embed(model, &texts).await,
                Err(e) => Err(anyhow::anyhow!("{}", crate::error::one_line(e))),
            };
            let vectors = match asked {
                Ok(vectors) => vectors,
                Err(e) => {
                    let text = crate::error::one_line(&e);
                    warn!(service = %shown(base), error = %text, "The embeddings service failed; questions without a vector are placed by wording.");
                    warning = Some(format!("embeddings service {text}"));
                    break;
                }
            };
            if vectors.first().is_some_and(|v| dims.is_some_and(|d| d != v.len())) {
                warning = Some(format!(
                    "the embeddings service at {} answered vectors of another length than those cached for {model}",
                    shown(base)
                ));
                break;
            }
            dims = dims.or(vectors.first().map(Vec::len));
            let fresh: Vec<(String, Vec<f32>)> =
                batch.iter().map(|&i| questions[i].0.clone()).zip(vectors).collect();
            wh.cache_vectors(model, &fresh).await?;
            got.extend(fresh);
        }
    }
    let vectors = questions.iter().map(|q| cached.get(&q.0).or_else(|| got.get(&q.0)).cloned()).collect();
    Ok(Fetched { vectors, warning })
}

/// The cached vectors of `keys` (no request): the members of stored topics, for centroids.
pub async fn cached(
    wh: &Warehouse,
    settings: &Settings,
    keys: &[String],
) -> anyhow::Result<HashMap<String, Vec<f32>>> {
    wh.cached_vectors(&settings.gaps.embeddings_model, keys).await
}

fn shown(base: &str) -> String {
    url::Url::parse(base)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "the configured URL".into())
}

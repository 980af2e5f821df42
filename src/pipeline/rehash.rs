//! Stored content hashes brought to the current hash version (`warehouse::rows`,
//! `CONTENT_HASH_VERSION`; docs/warehouse.md, "Content hash").
//!
//! An ingest writes a message only when its content hash differs from the stored one. The
//! hash is defined by explicit bytes per column, so it changes only when itstat changes it on
//! purpose — and then raises the version. A warehouse whose rows carry another version
//! (every warehouse made before version 2, hashed with `std::hash::Hash`) has its stored
//! rows hashed again once, before anything is compared, so that no row looks changed merely
//! because the hash function did.

use std::time::Instant;

use tracing::info;

use crate::warehouse::Warehouse;
use crate::warehouse::rows::{CONTENT_HASH_KEY, CONTENT_HASH_VERSION};

/// Re-hashes every stored message when the stored hash version is not the current one, in
/// one transaction, page by page (`page` rows at a time); records the version. Run under the
/// ingest lock. Returns how many rows it re-hashed.
pub async fn rehash_if_needed(wh: &Warehouse, page: usize) -> anyhow::Result<usize> {
    if wh.meta(CONTENT_HASH_KEY).await?.as_deref() == Some(CONTENT_HASH_VERSION) {
        return Ok(0);
    }
    let started = Instant::now();
    let mut tx = wh.begin().await?;
    let (mut after, mut seen, mut rehashed) = (String::new(), 0usize, 0usize);
    loop {
        let rows = tx.stored_rows(&after, page.max(1) as i64).await?;
        let Some(last) = rows.last() else { break };
        after = last.message_id.clone();
        seen += rows.len();
        let changed: Vec<(String, i64)> = rows
            .into_iter()
            .filter_map(|r| {
                let hash = r.compute_content_hash();
                (hash != r.content_hash).then_some((r.message_id, hash))
            })
            .collect();
        rehashed += changed.len();
        tx.set_content_hashes(changed).await?;
    }
    tx.set_meta(CONTENT_HASH_KEY, CONTENT_HASH_VERSION).await?;
    tx.commit().await?;
    if seen > 0 {
        info!(
            messages = seen,
            rehashed,
            version = CONTENT_HASH_VERSION,
            seconds = format!("{:.1}", started.elapsed().as_secs_f64()),
            "Hashed the stored messages again with the current content hash."
        );
    }
    Ok(rehashed)
}

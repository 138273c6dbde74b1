//! Deleting one resource: by its recorded ID, or by its tags when a crash
//! lost the answer to its create call; retrying while something still uses it.

use super::journal::Journal;
use super::progress::Progress;
use super::provider::{ErrorClass, Provider, ProviderError};
use std::time::{Duration, Instant};

/// How long deletes keep retrying dependency violations (load balancer
/// network interfaces linger for minutes on AWS).
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub deadline: Duration,
    pub first_wait: Duration,
    pub max_wait: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            deadline: Duration::from_secs(20 * 60),
            first_wait: Duration::from_millis(500),
            max_wait: Duration::from_secs(20),
        }
    }
}

/// Deletes `id` of `kind`, retrying dependency violations with backoff.
pub async fn delete_with_retry(
    provider: &dyn Provider,
    progress: &dyn Progress,
    address: &str,
    kind: &str,
    id: &str,
    retry: Retry,
) -> Result<(), ProviderError> {
    let start = Instant::now();
    let mut wait = retry.first_wait;
    loop {
        match provider.delete(kind, id).await {
            Ok(()) => return Ok(()),
            Err(e) if e.class == ErrorClass::NotFound => return Ok(()),
            Err(e)
                if e.class == ErrorClass::DependencyViolation
                    && start.elapsed() + wait < retry.deadline =>
            {
                progress.note(&format!(
                    "{address}: still in use, retrying in {wait:?} ({})",
                    e.message
                ));
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(retry.max_wait);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Deletes the resource at `address` as the journal records it, then forgets it.
pub async fn delete_recorded(
    journal: &Journal,
    provider: &dyn Provider,
    progress: &dyn Progress,
    address: &str,
    retry: Retry,
) -> Result<(), String> {
    let Some((kind, id, lab)) = journal.read(|s| {
        s.resources
            .get(address)
            .map(|r| (r.kind.clone(), r.id.clone(), s.lab.clone()))
    }) else {
        return Ok(());
    };
    let ids = match id {
        Some(id) => vec![id],
        // The create was sent but its answer never recorded: find it by tag.
        None => provider
            .tagged(&lab)
            .await
            .map_err(|e| e.message)?
            .into_iter()
            .filter(|t| t.address == address && t.kind == kind)
            .map(|t| t.id)
            .collect(),
    };
    for id in ids {
        delete_with_retry(provider, progress, address, &kind, &id, retry)
            .await
            .map_err(|e| e.message)?;
    }
    journal
        .update(|s| s.resources.shift_remove(address))
        .map_err(|e| format!("{e:#}"))?;
    Ok(())
}

//! Deleting one resource: by its recorded ID, or by its tags when a crash
//! lost the answer to its create call; retrying while something still uses
//! it, and saying what does.

use super::journal::Journal;
use super::progress::Progress;
use super::provider::{Attrs, DeleteRequest, ErrorClass, Provider, ProviderError, Tagged};
use serde_json::Value as Json;
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

/// One resource to delete, with what the state knows of it.
pub struct Target<'a> {
    /// How progress names it.
    pub label: &'a str,
    pub kind: &'a str,
    pub id: &'a str,
    pub props: Option<&'a Json>,
    pub attrs: Option<&'a Attrs>,
}

/// Deletes `target`, retrying dependency violations with backoff; the
/// first time it is in use, and when it gives up, it says what holds it.
pub async fn delete_with_retry(
    provider: &dyn Provider,
    progress: &dyn Progress,
    target: &Target<'_>,
    retry: Retry,
) -> Result<(), ProviderError> {
    let start = Instant::now();
    let mut wait = retry.first_wait;
    let note = |m: &str| progress.note(&format!("{}: {m}", target.label));
    let mut held_by: Option<Vec<String>> = None;
    loop {
        let req = DeleteRequest {
            kind: target.kind,
            id: target.id,
            props: target.props,
            attrs: target.attrs,
            note: &note,
        };
        match provider.delete(req).await {
            Ok(()) => return Ok(()),
            Err(e) if e.class == ErrorClass::NotFound => return Ok(()),
            Err(e) if e.class == ErrorClass::DependencyViolation => {
                let last = start.elapsed() + wait >= retry.deadline;
                if held_by.is_none() || last {
                    held_by = Some(provider.holders(target.kind, target.id, &note).await);
                }
                let holders = match held_by.as_deref() {
                    Some([]) | None => String::new(),
                    Some(h) => format!("; in use by {}", h.join(", ")),
                };
                if last {
                    return Err(ProviderError {
                        message: format!("{}{holders}", e.message),
                        ..e
                    });
                }
                note(&format!(
                    "still in use, retrying in {wait:.1?} ({}{holders})",
                    e.message
                ));
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(retry.max_wait);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Deletes the resource at `address` as the journal records it, then
/// forgets it. Without a recorded ID (a crash lost the create's answer) it
/// is looked for by its tags, in `found` when the caller listed them.
pub async fn delete_recorded(
    journal: &Journal,
    provider: &dyn Provider,
    progress: &dyn Progress,
    address: &str,
    found: Option<&[Tagged]>,
    retry: Retry,
) -> Result<(), String> {
    let Some((entry, lab)) =
        journal.read(|s| s.resources.get(address).map(|r| (r.clone(), s.lab.clone())))
    else {
        return Ok(());
    };
    let ids = match (&entry.id, found) {
        (Some(id), _) => vec![id.clone()],
        (None, Some(found)) => of_address(found, address, &entry.kind),
        (None, None) => {
            let note = |m: &str| progress.note(&format!("{address}: {m}"));
            let found = provider.tagged(&lab, &note).await.map_err(|e| e.message)?;
            of_address(&found, address, &entry.kind)
        }
    };
    for id in ids {
        let target = Target {
            label: address,
            kind: &entry.kind,
            id: &id,
            props: Some(&entry.props),
            attrs: Some(&entry.attrs),
        };
        delete_with_retry(provider, progress, &target, retry)
            .await
            .map_err(|e| e.message)?;
    }
    journal
        .commit(|s| s.resources.shift_remove(address))
        .await
        .map_err(|e| format!("{e:#}"))?;
    Ok(())
}

/// The IDs of what is tagged as `address` of `kind`.
fn of_address(found: &[Tagged], address: &str, kind: &str) -> Vec<String> {
    found
        .iter()
        .filter(|t| t.address == address && t.kind == kind)
        .map(|t| t.id.clone())
        .collect()
}

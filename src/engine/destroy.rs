//! Destroy: everything in the state in reverse dependency order, in
//! parallel; then a sweep of everything still tagged with the lab; then a
//! count of what is left, which must be zero.

use super::apply::Options;
use super::delete::{delete_recorded, delete_with_retry};
use super::journal::Journal;
use super::progress::{Progress, Verb};
use super::provider::{ErrorClass, Provider, Tagged};
use super::walk::{Outcome, walk};
use futures::StreamExt;
use std::collections::HashMap;
use std::time::Instant;

/// What a destroy did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    /// Resources deleted from the state.
    pub deleted: usize,
    /// Resources found only by their tags and deleted.
    pub swept: usize,
    /// Failures, one line each.
    pub errors: Vec<String>,
    /// Whatever is still tagged with the lab at the end.
    pub remaining: Vec<Tagged>,
}

/// Destroys the lab recorded in `journal`.
pub async fn destroy(
    journal: &Journal,
    provider: &dyn Provider,
    progress: &dyn Progress,
    opts: Options,
) -> Report {
    let mut report = Report::default();
    let (addresses, deps) = journal.read(|s| {
        let addresses: Vec<String> = s.resources.keys().cloned().collect();
        let index: HashMap<&str, usize> = addresses
            .iter()
            .enumerate()
            .map(|(i, a)| (a.as_str(), i))
            .collect();
        // A resource is deleted after everything that depended on it.
        let mut deps = vec![Vec::new(); addresses.len()];
        for (i, r) in s.resources.values().enumerate() {
            for d in &r.deps {
                if let Some(&j) = index.get(d.as_str()) {
                    deps[j].push(i);
                }
            }
        }
        (addresses, deps)
    });
    let outcomes = walk(&deps, opts.parallelism, |i| {
        let address = &addresses[i];
        async move {
            progress.start(address, Verb::Delete);
            let r = delete_recorded(journal, provider, progress, address, opts.retry).await;
            progress.finish(
                address,
                Verb::Delete,
                r.as_ref().map(|()| "").map_err(String::as_str),
            );
            r
        }
    })
    .await;
    for (address, outcome) in addresses.iter().zip(outcomes) {
        match outcome {
            Outcome::Done => report.deleted += 1,
            Outcome::Failed(e) => report.errors.push(format!("{address}: {e}")),
            Outcome::Skipped(j) => report.errors.push(format!(
                "{address}: skipped, {} was not deleted",
                addresses[j]
            )),
        }
    }
    let lab = journal.read(|s| s.lab.clone());
    sweep(&lab, provider, progress, opts, &mut report).await;
    report
}

/// Deletes everything tagged with the lab, dependents first by kind, and
/// records what is left.
pub async fn sweep(
    lab: &str,
    provider: &dyn Provider,
    progress: &dyn Progress,
    opts: Options,
    report: &mut Report,
) {
    let start = Instant::now();
    let order = provider.sweep_order();
    let rank = |kind: &str| order.iter().position(|k| *k == kind).unwrap_or(order.len());
    // Rounds in a row that removed nothing without anything being merely
    // in use: a delete that fails for good, or "succeeds" and leaves the
    // resource listed.
    let mut stuck = 0;
    let mut last_count = usize::MAX;
    loop {
        let mut found = match provider.tagged(lab).await {
            Ok(found) => found,
            Err(e) => {
                report
                    .errors
                    .push(format!("cannot list what is tagged with lab {lab}: {e}"));
                return;
            }
        };
        if found.is_empty() || start.elapsed() > opts.retry.deadline || stuck >= 3 {
            if stuck >= 3 {
                report
                    .errors
                    .push(format!("{} resource(s) could not be deleted", found.len()));
            }
            report.remaining = found;
            return;
        }
        progress.note(&format!(
            "sweeping {} resource(s) still tagged with lab {lab}",
            found.len()
        ));
        found.sort_by_key(|t| rank(&t.kind));
        let mut in_use = false;
        let mut i = 0;
        while i < found.len() {
            let r = rank(&found[i].kind);
            let group: Vec<&Tagged> = found[i..]
                .iter()
                .take_while(|t| rank(&t.kind) == r)
                .collect();
            i += group.len();
            let results: Vec<_> = futures::stream::iter(group)
                .map(|t| async move {
                    let label = format!("{} ({})", t.address, t.id);
                    progress.start(&label, Verb::Delete);
                    let mut quick = opts.retry;
                    quick.deadline = quick.first_wait * 8;
                    let r =
                        delete_with_retry(provider, progress, &label, &t.kind, &t.id, quick).await;
                    progress.finish(
                        &label,
                        Verb::Delete,
                        r.as_ref().map(|()| "swept").map_err(|e| e.message.as_str()),
                    );
                    r
                })
                .buffer_unordered(opts.parallelism.max(1))
                .collect()
                .await;
            for r in results {
                match r {
                    Ok(()) => report.swept += 1,
                    Err(e) if e.class == ErrorClass::DependencyViolation => in_use = true,
                    Err(e) => report.errors.push(e.message),
                }
            }
        }
        let removed = found.len() < last_count;
        last_count = found.len();
        if removed || in_use {
            stuck = 0;
        } else {
            stuck += 1;
        }
        if in_use {
            tokio::time::sleep(opts.retry.max_wait.min(std::time::Duration::from_secs(5))).await;
        }
    }
}

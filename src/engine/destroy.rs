//! Destroy: one delete graph of what the state records and what is tagged
//! with the lab without the state knowing it (a copy left by a lost answer,
//! a crash's leftovers), walked in parallel; then a count of what is left,
//! which must be zero.
//!
//! The tag listing runs at the start, beside the first deletes. Recorded
//! resources go in reverse dependency order. What only the tags found
//! ("strays") goes kind by kind in the provider's sweep order, each kind
//! after the recorded resources of the kinds that can hold it (a subnet's
//! instances) and before the recorded resources it can hold, so a stray
//! copy is deleted before the VPC it sits in; a kind without strays holds
//! up nothing once the listing has shown it. A recorded resource waits for
//! the listing only that way, or when its ID is unknown; the others
//! (instances, addresses) start at once. Each kind is counted as soon as
//! everything of it is deleted, beside the deletes still going on.

use super::apply::Options;
use super::delete::{Target, delete_recorded, delete_with_retry};
use super::journal::Journal;
use super::progress::{Progress, Verb};
use super::provider::{ErrorClass, Provider, ProviderError, Tagged};
use super::state::ResourceState;
use super::walk::{Outcome, walk_releasing};
use futures::StreamExt;
use indexmap::IndexMap;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// What a destroy did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    /// Resources deleted from the state.
    pub deleted: usize,
    /// Resources found only by their tags and deleted.
    pub swept: usize,
    /// Failures met on the way, one line each (a later pass may have
    /// deleted what failed: `remaining` is what counts).
    pub errors: Vec<String>,
    /// Whether the final listing of what is tagged with the lab answered.
    pub checked: bool,
    /// Whatever is still tagged with the lab at the end.
    pub remaining: Vec<Tagged>,
}

impl Report {
    /// Nothing tagged with the lab is left, as a listing confirmed.
    pub fn gone(&self) -> bool {
        self.checked && self.remaining.is_empty()
    }
}

/// A node of the delete graph, in the order the walk prefers among those
/// ready: counts last, so they never hold up a delete.
enum Node {
    /// Lists what is tagged with the lab.
    Listing,
    /// A resource the state records.
    Recorded(String),
    /// What only the tags found, of one kind.
    Strays(&'static str),
    /// Lists what is left of one kind once everything of it is deleted.
    Count(&'static str),
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Node::Listing => write!(f, "listing"),
            Node::Recorded(address) => write!(f, "{address}"),
            Node::Strays(kind) => write!(f, "{kind} found only by tag"),
            Node::Count(kind) => write!(f, "count of {kind}"),
        }
    }
}

/// Destroys the lab recorded in `journal` and everything tagged with it.
pub async fn destroy(
    journal: &Journal,
    provider: &dyn Provider,
    progress: &dyn Progress,
    opts: Options,
) -> Report {
    let lab = journal.read(|s| s.lab.clone());
    let recorded = journal.read(|s| s.resources.clone());
    let (nodes, deps) = plan_nodes(journal, provider);
    provider.bound_calls(opts.parallelism);
    let listed: Mutex<Option<Vec<Tagged>>> = Mutex::new(None);
    let strays: Mutex<HashMap<String, Vec<Tagged>>> = Mutex::new(HashMap::new());
    let report = Mutex::new(Report {
        checked: true,
        ..Report::default()
    });
    let outcomes = walk_releasing(&deps, opts.parallelism, |i| {
        let (listed, strays, report, lab, recorded, nodes) =
            (&listed, &strays, &report, &lab, &recorded, &nodes);
        let node = &nodes[i];
        async move {
            match node {
                Node::Listing => {
                    let note = |m: &str| progress.note(m);
                    let found = provider
                        .tagged(lab, &note)
                        .await
                        .map_err(|e| format!("cannot list what is tagged with lab {lab}: {e}"))?;
                    // Against the state as it was at the start: deletes
                    // running meanwhile forget what they deleted.
                    let unknown: Vec<Tagged> =
                        found.iter().filter(|t| !known(recorded, t)).cloned().collect();
                    if !unknown.is_empty() {
                        progress.note(&format!(
                            "{} resource(s) tagged with lab {lab} are not in its state; deleting them too",
                            unknown.len()
                        ));
                    }
                    let mut by_kind = lock(strays);
                    for t in unknown {
                        by_kind.entry(t.kind.clone()).or_default().push(t);
                    }
                    *lock(listed) = Some(found);
                    // A kind without strays holds up nothing.
                    Ok((nodes.iter().enumerate())
                        .filter(|(_, n)| matches!(n, Node::Strays(k) if !by_kind.contains_key(*k)))
                        .map(|(i, _)| i)
                        .collect())
                }
                Node::Recorded(address) => {
                    progress.start(address, Verb::Delete);
                    let found = lock(listed).clone();
                    let r = delete_recorded(
                        journal,
                        provider,
                        progress,
                        address,
                        found.as_deref(),
                        opts.retry,
                    )
                    .await;
                    progress.finish(
                        address,
                        Verb::Delete,
                        r.as_ref().map(|()| "").map_err(String::as_str),
                    );
                    r.map(|()| Vec::new())
                }
                Node::Strays(kind) => {
                    let found = lock(strays).remove(*kind).unwrap_or_default();
                    let results = delete_strays(provider, progress, &found, opts).await;
                    let mut report = lock(report);
                    let mut failed = Vec::new();
                    for r in results {
                        match r {
                            Ok(()) => report.swept += 1,
                            Err(e) => failed.push(e.message),
                        }
                    }
                    match failed.is_empty() {
                        true => Ok(Vec::new()),
                        false => Err(failed.join("; ")),
                    }
                }
                Node::Count(kind) => {
                    let note = |m: &str| progress.note(m);
                    let left = provider.tagged_kind(lab, kind, &note).await;
                    let mut report = lock(report);
                    match left {
                        Ok(left) => report.remaining.extend(left),
                        Err(e) => {
                            report.checked = false;
                            report.errors.push(format!("cannot list what is left: {e}"));
                        }
                    }
                    Ok(Vec::new())
                }
            }
        }
    })
    .await;
    let mut report = report.into_inner().unwrap_or_else(|p| p.into_inner());
    for (node, outcome) in nodes.iter().zip(outcomes) {
        let what = node.to_string();
        match outcome {
            Outcome::Done if matches!(node, Node::Recorded(_)) => report.deleted += 1,
            Outcome::Done => {}
            Outcome::Failed(e) => report.errors.push(format!("{what}: {e}")),
            // A count not taken: what is left is not known.
            Outcome::Skipped(_) if matches!(node, Node::Count(_)) => report.checked = false,
            Outcome::Skipped(_) => {}
        }
    }
    if !report.gone() {
        sweep(&lab, provider, progress, opts, &mut report).await;
    }
    report
}

/// Whether the state (as it was at the start) records what the tags found:
/// the same kind and ID, or the same kind and address when the state never
/// learnt the ID (a crash after the create call).
fn known(recorded: &IndexMap<String, ResourceState>, t: &Tagged) -> bool {
    recorded.iter().any(|(address, r)| {
        r.kind == t.kind
            && match &r.id {
                Some(id) => *id == t.id,
                None => *address == t.address,
            }
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The nodes of the delete graph and what each waits for.
fn plan_nodes(journal: &Journal, provider: &dyn Provider) -> (Vec<Node>, Vec<Vec<usize>>) {
    let order = provider.sweep_order();
    let recorded: Vec<(String, String, bool, Vec<String>)> = journal.read(|s| {
        s.resources
            .iter()
            .map(|(a, r)| (a.clone(), r.kind.clone(), r.id.is_some(), r.deps.clone()))
            .collect()
    });
    let first_stray = 1 + recorded.len();
    let first_count = first_stray + order.len();
    let mut nodes = vec![Node::Listing];
    nodes.extend(recorded.iter().map(|(a, ..)| Node::Recorded(a.clone())));
    nodes.extend(order.iter().map(|k| Node::Strays(k)));
    nodes.extend(order.iter().map(|k| Node::Count(k)));
    let index: HashMap<&str, usize> = recorded
        .iter()
        .enumerate()
        .map(|(i, (a, ..))| (a.as_str(), 1 + i))
        .collect();
    let of_kind = |kind: &str| -> Vec<usize> {
        (recorded.iter().enumerate())
            .filter(|(_, (_, k, ..))| k == kind)
            .map(|(i, _)| 1 + i)
            .collect()
    };
    let mut deps = vec![Vec::new(); nodes.len()];
    // A recorded resource after what the state says depended on it, and
    // after the listing when its ID is unknown.
    for (i, (_, _, has_id, ds)) in recorded.iter().enumerate() {
        for d in ds {
            if let Some(&j) = index.get(d.as_str()) {
                deps[j].push(1 + i);
            }
        }
        if !has_id {
            deps[1 + i].push(0);
        }
    }
    let mut with_strays = deps.clone();
    for (n, kind) in order.iter().enumerate() {
        let (strays, count) = (first_stray + n, first_count + n);
        // Strays of a kind after the listing, the strays of earlier kinds,
        // and the recorded resources of the kinds that can hold them. (The
        // listing finds kinds without strays needless: their nodes hold up
        // nothing.)
        deps[strays].push(0);
        deps[strays].extend((0..n).map(|m| first_stray + m));
        for holder in provider.held_by(kind) {
            deps[strays].extend(of_kind(holder));
        }
        // A kind is counted once everything of it is deleted.
        deps[count].push(strays);
        deps[count].extend(of_kind(kind));
        with_strays[strays] = deps[strays].clone();
        with_strays[count] = deps[count].clone();
        // The recorded resources a kind can hold wait for its strays.
        for held in order.iter().filter(|h| provider.held_by(h).contains(kind)) {
            for i in of_kind(held) {
                with_strays[i].push(strays);
            }
        }
    }
    // Explicit dependencies against the grain of kinds could close a
    // circle; recorded resources then go without waiting for strays (their
    // deletes retry while a stray still uses them).
    if acyclic(&with_strays) {
        deps = with_strays;
    }
    (nodes, deps)
}

/// Whether the graph has no cycle (Kahn's algorithm).
fn acyclic(deps: &[Vec<usize>]) -> bool {
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut dependents = vec![Vec::new(); deps.len()];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(i);
        }
    }
    let mut ready: Vec<usize> = (0..deps.len()).filter(|&i| waiting[i] == 0).collect();
    let mut seen = 0;
    while let Some(i) = ready.pop() {
        seen += 1;
        for &j in &dependents[i] {
            waiting[j] -= 1;
            if waiting[j] == 0 {
                ready.push(j);
            }
        }
    }
    seen == deps.len()
}

/// Deletes resources found by their tags, in parallel.
async fn delete_strays(
    provider: &dyn Provider,
    progress: &dyn Progress,
    found: &[Tagged],
    opts: Options,
) -> Vec<Result<(), ProviderError>> {
    futures::stream::iter(found)
        .map(|t| async move {
            let label = match t.address.as_str() {
                "" => format!("{} {}", t.kind, t.id),
                address => format!("{address} ({})", t.id),
            };
            progress.start(&label, Verb::Delete);
            let target = Target {
                label: &label,
                kind: &t.kind,
                id: &t.id,
                props: None,
                attrs: None,
            };
            let r = delete_with_retry(provider, progress, &target, opts.retry).await;
            progress.finish(
                &label,
                Verb::Delete,
                r.as_ref().map(|()| "swept").map_err(|e| e.message.as_str()),
            );
            r.map_err(|e| ProviderError {
                message: format!("{label}: {}", e.message),
                ..e
            })
        })
        .buffer_unordered(opts.parallelism.max(1))
        .collect()
        .await
}

/// Lists what is still tagged with the lab and, while anything is, deletes
/// it dependents first by kind; records what is left.
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
    let note = |m: &str| progress.note(m);
    // Rounds in a row that removed nothing without anything being merely
    // in use: a delete that fails for good, or "succeeds" and leaves the
    // resource listed.
    let mut stuck = 0;
    let mut last_count = usize::MAX;
    loop {
        let mut found = match provider.tagged(lab, &note).await {
            Ok(found) => found,
            Err(e) => {
                report.checked = false;
                report
                    .errors
                    .push(format!("cannot list what is tagged with lab {lab}: {e}"));
                return;
            }
        };
        report.checked = true;
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
            let group: Vec<Tagged> = found[i..]
                .iter()
                .take_while(|t| rank(&t.kind) == r)
                .cloned()
                .collect();
            i += group.len();
            let mut quick = opts;
            quick.retry.deadline = quick.retry.first_wait * 8;
            for r in delete_strays(provider, progress, &group, quick).await {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::provider::{Offline, Stage};
    use crate::engine::state::{State, Status};

    /// Instances in subnets in a VPC.
    fn network() -> Offline {
        Offline {
            order: vec!["instance", "subnet", "vpc"],
            stages: |_| vec![Stage::WHOLE],
            held_by: |kind| match kind {
                "subnet" => vec!["instance"],
                "vpc" => vec!["subnet"],
                _ => Vec::new(),
            },
        }
    }

    fn recorded(kind: &str, id: Option<&str>, deps: &[&str]) -> ResourceState {
        ResourceState {
            kind: kind.into(),
            status: Status::Created,
            id: id.map(String::from),
            token: String::new(),
            props: serde_json::Value::Null,
            attrs: Default::default(),
            deps: deps.iter().map(|d| d.to_string()).collect(),
            created_at: 0,
        }
    }

    #[test]
    fn strays_go_before_what_they_can_hold_and_the_rest_starts_at_once() {
        let mut state = State::new("lab", "us-east-1");
        for (address, r) in [
            ("vpc.v", recorded("vpc", Some("vpc-1"), &[])),
            ("subnet.s", recorded("subnet", Some("subnet-1"), &["vpc.v"])),
            (
                "instance.i",
                recorded("instance", Some("i-1"), &["subnet.s"]),
            ),
            ("instance.lost", recorded("instance", None, &["subnet.s"])),
        ] {
            state.resources.insert(address.into(), r);
        }
        let (nodes, deps) = plan_nodes(&Journal::new(state), &network());
        let waits = |name: &str| {
            let i = nodes.iter().position(|n| n.to_string() == name).unwrap();
            let mut w: Vec<String> = deps[i].iter().map(|&j| nodes[j].to_string()).collect();
            w.sort();
            w
        };
        assert!(waits("instance.i").is_empty(), "starts at once");
        assert_eq!(
            waits("instance.lost"),
            ["listing"],
            "its ID is in the listing"
        );
        assert_eq!(
            waits("subnet.s"),
            ["instance found only by tag", "instance.i", "instance.lost"]
        );
        assert_eq!(waits("vpc.v"), ["subnet found only by tag", "subnet.s"]);
        assert_eq!(
            waits("subnet found only by tag"),
            [
                "instance found only by tag",
                "instance.i",
                "instance.lost",
                "listing"
            ]
        );
        assert_eq!(waits("instance found only by tag"), ["listing"]);
        assert_eq!(waits("count of vpc"), ["vpc found only by tag", "vpc.v"]);
    }

    #[test]
    fn what_the_state_knows_is_matched_by_id_or_by_address_without_one() {
        let recorded = IndexMap::from([
            (
                "subnet.s".to_string(),
                recorded("subnet", Some("subnet-1"), &[]),
            ),
            ("vpc.v".to_string(), recorded("vpc", None, &[])),
        ]);
        let found = |kind: &str, id: &str, address: &str| Tagged {
            kind: kind.into(),
            id: id.into(),
            address: address.into(),
        };
        assert!(known(&recorded, &found("subnet", "subnet-1", "")));
        assert!(
            !known(&recorded, &found("subnet", "subnet-2", "subnet.s")),
            "a copy"
        );
        assert!(known(&recorded, &found("vpc", "vpc-9", "vpc.v")));
        assert!(!known(&recorded, &found("vpc", "vpc-8", "vpc.w")));
    }
}

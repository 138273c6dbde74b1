//! Apply: carries out a plan by walking its operation graph in parallel.
//! A create runs in stages; its first stage journals it before any call,
//! every stage records what it made before it ends, so an operation starts
//! only from facts on disk, and as soon as the attributes it uses are known.

use super::decl::Declaration;
use super::delete::{Retry, delete_recorded};
use super::graph::{Graph, Staged};
use super::journal::Journal;
use super::plan::Plan;
use super::progress::{Progress, Verb};
use super::provider::{CreateRequest, Provider, UpdateRequest};
use super::state::{ResourceState, Status, now};
use super::value::{Resolved, Value};
use super::walk::{Outcome, walk};
use indexmap::IndexMap;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;

/// How one operation ended.
#[derive(Debug, Clone, Serialize)]
pub struct OpResult {
    pub address: String,
    pub verb: Verb,
    /// `done`, `failed` or `skipped`.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What an apply did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub ops: Vec<OpResult>,
}

impl Report {
    /// Whether any operation failed or was skipped.
    pub fn failed(&self) -> bool {
        self.ops.iter().any(|o| o.outcome != "done")
    }
}

/// Tuning of a walk.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Operations in flight at once.
    pub parallelism: usize,
    pub retry: Retry,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            parallelism: 10,
            retry: Retry::default(),
        }
    }
}

/// Where each resource's creation stands, so progress shows resources (one
/// start, one end each) while their stages run apart.
#[derive(Default)]
struct Creations(Mutex<HashMap<String, Creation>>);

#[derive(Default)]
struct Creation {
    started: bool,
    stages_done: usize,
    ended: bool,
}

impl Creations {
    fn with<R>(&self, address: &str, f: impl FnOnce(&mut Creation) -> R) -> R {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(map.entry(address.to_string()).or_default())
    }

    /// Whether this is the resource's first stage to start.
    fn start(&self, address: &str) -> bool {
        self.with(address, |c| !std::mem::replace(&mut c.started, true))
    }

    /// Counts a stage done; whether it was the last one.
    fn stage_done(&self, address: &str, count: usize) -> bool {
        self.with(address, |c| {
            c.stages_done += 1;
            c.stages_done == count
        })
    }

    /// Whether the resource's end is still to be shown (once only).
    fn end(&self, address: &str) -> bool {
        self.with(address, |c| !std::mem::replace(&mut c.ended, true))
    }

    /// Resources started and never shown as ended.
    fn unfinished(&self) -> Vec<String> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.iter()
            .filter(|(_, c)| c.started && !c.ended)
            .map(|(a, _)| a.clone())
            .collect()
    }
}

/// Applies `plan`. Failures are reported per resource; the rest goes on.
pub async fn apply(
    decl: &Declaration,
    plan: &Plan,
    journal: &Journal,
    provider: &dyn Provider,
    progress: &dyn Progress,
    opts: Options,
) -> Report {
    let old_deps: HashMap<String, Vec<String>> = journal.read(|s| {
        s.resources
            .iter()
            .map(|(a, r)| (a.clone(), r.deps.clone()))
            .collect()
    });
    let graph = Graph::build(decl, plan, &old_deps, provider);
    provider.bound_calls(opts.parallelism);
    let creations = Creations::default();
    let outcomes = walk(&graph.deps, opts.parallelism, |i| {
        let op = &graph.ops[i];
        let creations = &creations;
        async move {
            let address = op.address.as_str();
            let note = |m: &str| progress.note(&format!("{address}: {m}"));
            let Some(staged) = &op.staged else {
                progress.start(address, op.verb);
                let result = match op.verb {
                    Verb::Delete => {
                        delete_recorded(journal, provider, progress, address, None, opts.retry)
                            .await
                            .map(|()| String::new())
                    }
                    _ => update(decl, journal, provider, address, &note).await,
                };
                progress.finish(address, op.verb, result.as_deref().map_err(String::as_str));
                return result.map(drop);
            };
            if creations.start(address) {
                progress.start(address, Verb::Create);
            }
            let result = create_stage(decl, journal, provider, address, staged, creations, &note)
                .await
                .map_err(|e| match staged.count {
                    1 => e,
                    _ => format!("{}: {e}", staged.stage.name),
                });
            match &result {
                Ok(Some(id)) if creations.end(address) => {
                    progress.finish(address, Verb::Create, Ok(id));
                }
                Err(e) if creations.end(address) => {
                    progress.finish(address, Verb::Create, Err(e));
                }
                _ => {}
            }
            result.map(drop)
        }
    })
    .await;
    for address in creations.unfinished() {
        progress.finish(&address, Verb::Create, Err("not finished"));
    }
    report(&graph, outcomes)
}

/// One result per resource and verb: failed if a stage failed, skipped if
/// one waited for a failure elsewhere, done otherwise.
fn report(graph: &Graph, outcomes: Vec<Outcome>) -> Report {
    let mut results: IndexMap<(String, Verb), OpResult> = IndexMap::new();
    for (op, outcome) in graph.ops.iter().zip(outcomes) {
        let (outcome, error) = match outcome {
            Outcome::Done => ("done", None),
            Outcome::Failed(e) => ("failed", Some(e)),
            Outcome::Skipped(j) => ("skipped", Some(format!("{} failed", graph.ops[j].address))),
        };
        let rank = |o: &str| ["done", "skipped", "failed"].iter().position(|x| *x == o);
        let entry = results
            .entry((op.address.clone(), op.verb))
            .or_insert_with(|| OpResult {
                address: op.address.clone(),
                verb: op.verb,
                outcome: "done".into(),
                error: None,
            });
        if rank(outcome) > rank(&entry.outcome) {
            entry.outcome = outcome.into();
            entry.error = error;
        }
    }
    Report {
        ops: results.into_values().collect(),
    }
}

/// Resolves a resource's literal properties and those with references in
/// `keys` against the journal; those references are known by now (the
/// operations that give them ran first).
fn resolve(
    decl: &Declaration,
    journal: &Journal,
    address: &str,
    keys: Option<&[String]>,
) -> Result<serde_json::Value, String> {
    let r = &decl.resources[address];
    let wanted = |k: &String, v: &Value| keys.is_none_or(|keys| !v.has_refs() || keys.contains(k));
    let value = Value::Map(
        r.props
            .iter()
            .filter(|(k, v)| wanted(k, v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    );
    match journal.read(|s| value.resolve(&|rf| s.known(&rf.address, &rf.attr))) {
        Resolved::Known(v) => Ok(v),
        Resolved::Unknown => {
            let mut missing = Vec::new();
            journal.read(|s| {
                value.visit_refs(&mut |rf| {
                    if s.known(&rf.address, &rf.attr).is_none() {
                        missing.push(rf.to_string());
                    }
                })
            });
            Err(format!("unknown attributes: {}", missing.join(", ")))
        }
    }
}

/// Carries out one stage of a create. The first journals the resource
/// (status `creating`, its token) before any call; each records what it
/// gave, and the last marks it created. Returns the ID once the last is done.
async fn create_stage(
    decl: &Declaration,
    journal: &Journal,
    provider: &dyn Provider,
    address: &str,
    staged: &Staged,
    creations: &Creations,
    note: &(dyn Fn(&str) + Send + Sync),
) -> Result<Option<String>, String> {
    let r = &decl.resources[address];
    let props = resolve(decl, journal, address, Some(&staged.keys))?;
    let fail = |e: anyhow::Error| format!("{e:#}");
    if staged.first {
        let entry = ResourceState {
            kind: r.kind.clone(),
            status: Status::Creating,
            id: None,
            token: uuid::Uuid::new_v4().to_string(),
            props: props.clone(),
            attrs: Default::default(),
            deps: r.dependencies(),
            created_at: now(),
        };
        journal
            .commit(|s| {
                s.up_since.get_or_insert(entry.created_at);
                s.resources.insert(address.to_string(), entry);
            })
            .await
            .map_err(fail)?;
    } else {
        journal
            .commit(|s| {
                if let (Some(x), serde_json::Value::Object(new)) =
                    (s.resources.get_mut(address), &props)
                    && let serde_json::Value::Object(old) = &mut x.props
                {
                    old.extend(new.clone());
                }
            })
            .await
            .map_err(fail)?;
    }
    let (token, id, attrs) = journal
        .read(|s| {
            s.resources
                .get(address)
                .map(|x| (x.token.clone(), x.id.clone(), x.attrs.clone()))
        })
        .ok_or_else(|| format!("{address} is not in the state"))?;
    // Queued at once; on disk before the stage ends (its commit below comes
    // after it), so before anything uses the ID.
    let recorded = std::sync::atomic::AtomicBool::new(false);
    let record_id = |id: &str| {
        recorded.store(true, std::sync::atomic::Ordering::Relaxed);
        journal.record(|s| {
            if let Some(r) = s.resources.get_mut(address) {
                r.id = Some(id.to_string());
            }
        })
    };
    let lab = decl.lab.clone();
    let given = provider
        .create(CreateRequest {
            lab: &lab,
            address,
            kind: &r.kind,
            stage: staged.stage.name,
            props: &props,
            token: &token,
            id: id.as_deref(),
            attrs: &attrs,
            record_id: &record_id,
            note,
        })
        .await;
    let given = match given {
        Ok(given) => given,
        Err(e) => {
            // Nothing made (no ID given, the failed call changed nothing):
            // the lab does not hold it, so ls and down need not know it.
            if staged.first && e.changed_nothing && !recorded.into_inner() {
                journal
                    .commit(|s| {
                        s.resources.shift_remove(address);
                        if s.resources.is_empty() {
                            s.up_since = None;
                        }
                    })
                    .await
                    .map_err(fail)?;
            }
            return Err(e.message);
        }
    };
    journal
        .commit(|s| {
            let x = s.resources.get_mut(address).expect("journaled above");
            x.attrs.extend(given);
            if creations.stage_done(address, staged.count) {
                x.status = Status::Created;
                Some(x.id.clone().unwrap_or_default())
            } else {
                None
            }
        })
        .await
        .map_err(fail)
}

async fn update(
    decl: &Declaration,
    journal: &Journal,
    provider: &dyn Provider,
    address: &str,
    note: &(dyn Fn(&str) + Send + Sync),
) -> Result<String, String> {
    let r = &decl.resources[address];
    let new = resolve(decl, journal, address, None)?;
    let (id, old, attrs) = journal
        .read(|s| {
            s.resources.get(address).map(|x| {
                (
                    x.id.clone().unwrap_or_default(),
                    x.props.clone(),
                    x.attrs.clone(),
                )
            })
        })
        .ok_or_else(|| format!("{address} is not in the state"))?;
    let lab = decl.lab.clone();
    let attrs = provider
        .update(UpdateRequest {
            lab: &lab,
            address,
            kind: &r.kind,
            id: &id,
            old: &old,
            new: &new,
            attrs: &attrs,
            note,
        })
        .await
        .map_err(|e| e.message)?;
    journal
        .commit(|s| {
            let x = s.resources.get_mut(address).expect("checked above");
            x.props = new;
            x.attrs = attrs;
            x.deps = r.dependencies();
        })
        .await
        .map_err(|e| format!("{e:#}"))?;
    Ok(id)
}

//! Apply: carries out a plan by walking the graph in parallel. Each create is
//! journaled before its call and recorded right after; a resource's
//! dependents start only once its result is on disk.

use super::decl::Declaration;
use super::delete::{Retry, delete_recorded};
use super::journal::Journal;
use super::plan::{Action, Plan};
use super::progress::{Progress, Verb};
use super::provider::{CreateRequest, Provider, UpdateRequest};
use super::state::{ResourceState, Status, now};
use super::value::Resolved;
use super::walk::{Outcome, walk};
use serde::Serialize;
use std::collections::HashMap;

/// One operation of an apply.
#[derive(Debug, Clone)]
struct Op {
    address: String,
    verb: Verb,
}

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

/// Builds the operation graph: creates and updates after what they refer to,
/// deletes before the deletes of what they depended on, a replacement's
/// create after its delete.
fn graph(decl: &Declaration, plan: &Plan, journal: &Journal) -> (Vec<Op>, Vec<Vec<usize>>) {
    let mut ops = Vec::new();
    let (mut delete_at, mut apply_at) = (HashMap::new(), HashMap::new());
    for c in &plan.changes {
        let mut push = |verb| {
            ops.push(Op {
                address: c.address.clone(),
                verb,
            });
            ops.len() - 1
        };
        match &c.action {
            Action::Keep => {}
            Action::Delete => {
                delete_at.insert(c.address.clone(), push(Verb::Delete));
            }
            Action::Replace { .. } => {
                delete_at.insert(c.address.clone(), push(Verb::Delete));
                apply_at.insert(c.address.clone(), push(Verb::Create));
            }
            Action::Create => {
                apply_at.insert(c.address.clone(), push(Verb::Create));
            }
            Action::Update { .. } => {
                apply_at.insert(c.address.clone(), push(Verb::Update));
            }
        }
    }
    let old_deps: HashMap<String, Vec<String>> = journal.read(|s| {
        s.resources
            .iter()
            .map(|(a, r)| (a.clone(), r.deps.clone()))
            .collect()
    });
    let mut deps = vec![Vec::new(); ops.len()];
    for (i, op) in ops.iter().enumerate() {
        match op.verb {
            Verb::Delete => {
                for (other, their_deps) in &old_deps {
                    if their_deps.contains(&op.address)
                        && let Some(&j) = delete_at.get(other)
                    {
                        deps[i].push(j);
                    }
                }
            }
            Verb::Create | Verb::Update => {
                if let Some(&j) = delete_at.get(&op.address) {
                    deps[i].push(j);
                }
                for d in decl.resources[&op.address].dependencies() {
                    if let Some(&j) = apply_at.get(&d) {
                        deps[i].push(j);
                    }
                }
            }
        }
    }
    (ops, deps)
}

/// Applies `plan`. Failures are reported per operation; the rest goes on.
pub async fn apply(
    decl: &Declaration,
    plan: &Plan,
    journal: &Journal,
    provider: &dyn Provider,
    progress: &dyn Progress,
    opts: Options,
) -> Report {
    let (ops, deps) = graph(decl, plan, journal);
    let outcomes = walk(&deps, opts.parallelism, |i| {
        let op = &ops[i];
        async move {
            progress.start(&op.address, op.verb);
            let result = match op.verb {
                Verb::Delete => {
                    delete_recorded(journal, provider, progress, &op.address, opts.retry)
                        .await
                        .map(|()| String::new())
                }
                Verb::Create => create(decl, journal, provider, &op.address).await,
                Verb::Update => update(decl, journal, provider, &op.address).await,
            };
            progress.finish(
                &op.address,
                op.verb,
                result.as_deref().map_err(String::as_str),
            );
            result.map(|_| ())
        }
    })
    .await;
    let ops = ops
        .iter()
        .zip(outcomes)
        .map(|(op, outcome)| {
            let (outcome, error) = match outcome {
                Outcome::Done => ("done", None),
                Outcome::Failed(e) => ("failed", Some(e)),
                Outcome::Skipped(j) => ("skipped", Some(format!("{} failed", ops[j].address))),
            };
            OpResult {
                address: op.address.clone(),
                verb: op.verb,
                outcome: outcome.into(),
                error,
            }
        })
        .collect();
    Report { ops }
}

/// Resolves a resource's declared properties against the journal; every
/// reference must be known by now (its creator ran first).
fn resolve(
    decl: &Declaration,
    journal: &Journal,
    address: &str,
) -> Result<serde_json::Value, String> {
    let r = &decl.resources[address];
    let value = super::value::Value::Map(r.props.clone());
    match journal.read(|s| value.resolve(&|rf| s.attr(&rf.address, &rf.attr))) {
        Resolved::Known(v) => Ok(v),
        Resolved::Unknown => {
            let mut missing = Vec::new();
            journal.read(|s| {
                value.visit_refs(&mut |rf| {
                    if s.attr(&rf.address, &rf.attr).is_none() {
                        missing.push(rf.to_string());
                    }
                })
            });
            Err(format!("unknown attributes: {}", missing.join(", ")))
        }
    }
}

async fn create(
    decl: &Declaration,
    journal: &Journal,
    provider: &dyn Provider,
    address: &str,
) -> Result<String, String> {
    let r = &decl.resources[address];
    let props = resolve(decl, journal, address)?;
    let token = uuid::Uuid::new_v4().to_string();
    let entry = ResourceState {
        kind: r.kind.clone(),
        status: Status::Creating,
        id: None,
        token: token.clone(),
        props: props.clone(),
        attrs: Default::default(),
        deps: r.dependencies(),
        created_at: now(),
    };
    let lab = decl.lab.clone();
    journal
        .update(|s| {
            s.up_since.get_or_insert(entry.created_at);
            s.resources.insert(address.to_string(), entry);
        })
        .map_err(|e| format!("{e:#}"))?;
    let record_id = |id: &str| {
        if let Err(e) = journal.update(|s| {
            if let Some(r) = s.resources.get_mut(address) {
                r.id = Some(id.to_string());
            }
        }) {
            tracing::error!("cannot record the ID of {address}: {e:#}");
        }
    };
    let attrs = provider
        .create(CreateRequest {
            lab: &lab,
            address,
            kind: &r.kind,
            props: &props,
            token: &token,
            record_id: &record_id,
        })
        .await
        .map_err(|e| e.message)?;
    journal
        .update(|s| {
            let r = s.resources.get_mut(address).expect("journaled above");
            r.status = Status::Created;
            r.attrs = attrs;
            r.id.clone().unwrap_or_default()
        })
        .map_err(|e| format!("{e:#}"))
}

async fn update(
    decl: &Declaration,
    journal: &Journal,
    provider: &dyn Provider,
    address: &str,
) -> Result<String, String> {
    let r = &decl.resources[address];
    let new = resolve(decl, journal, address)?;
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
        })
        .await
        .map_err(|e| e.message)?;
    journal
        .update(|s| {
            let x = s.resources.get_mut(address).expect("checked above");
            x.props = new;
            x.attrs = attrs;
            x.deps = r.dependencies();
        })
        .map_err(|e| format!("{e:#}"))?;
    Ok(id)
}

//! What after-up steps and checks share: functions a lab declares by name
//! with options (`after`, `timeout`), checked for names that do not exist
//! or come later, and run by the engine's walker once the tasks they wait
//! for are done, independent ones at the same time, each within its
//! deadline.

use super::live::Live;
use crate::engine::decl::Location;
use crate::engine::walk::{Outcome as Walked, walk};
use crate::lua::error::ScriptError;
use crate::lua::location;
use mlua::{Function, Lua, Table};
use std::time::{Duration, Instant};

/// The two kinds of tasks a lab declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `labrun.after_up`: makes the lab (kubeadm init, copying files...).
    Step,
    /// `labrun.check`: proves the lab works, changing nothing.
    Check,
}

impl Kind {
    /// The `labrun` function that declares it.
    fn function(self) -> &'static str {
        match self {
            Kind::Step => "after_up",
            Kind::Check => "check",
        }
    }

    /// What it is called in messages.
    fn noun(self) -> &'static str {
        match self {
            Kind::Step => "step",
            Kind::Check => "check",
        }
    }

    /// Its deadline unless it sets `timeout`.
    pub fn default_timeout(self) -> Duration {
        match self {
            Kind::Step => Duration::from_secs(600),
            Kind::Check => Duration::from_secs(60),
        }
    }

    /// Whether what the function returned means success: a step's result
    /// does not matter; a check passes with nothing or `true` and fails
    /// with `false` or a reason.
    fn judge(self, value: mlua::Value) -> Result<(), String> {
        match (self, value) {
            (Kind::Step, _) | (Kind::Check, mlua::Value::Nil | mlua::Value::Boolean(true)) => {
                Ok(())
            }
            (Kind::Check, mlua::Value::Boolean(false)) => Err("returned false".into()),
            (Kind::Check, mlua::Value::String(s)) => Err(s.to_string_lossy()),
            (Kind::Check, other) => Err(format!(
                "returned a {}; a check returns nothing or true when it passes, false or a reason when not",
                other.type_name()
            )),
        }
    }

    /// An error the function raised, as the task's reason: a step keeps
    /// the traceback; a check's reason is one line.
    fn reason(self, e: mlua::Error) -> String {
        let e = ScriptError::from(e);
        match self {
            Kind::Step => e.to_string(),
            Kind::Check => e.message,
        }
    }
}

/// One declared task.
#[derive(Clone)]
struct Task {
    name: String,
    f: Function,
    after: Vec<String>,
    timeout: Duration,
    location: Location,
}

/// The tasks a script declared, in order, indexed by [`Kind`].
#[derive(Default, Clone)]
struct Declared([Vec<Task>; 2]);

/// How one task ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Not run this time: the caller left it out (a step done before, a
    /// check not asked for).
    LeftOut,
    Done(Duration),
    Failed {
        reason: String,
        took: Duration,
    },
    /// Not run: this task it waits for failed.
    Skipped(String),
}

impl Outcome {
    /// Whether it failed or was skipped because another failed.
    pub fn failed(&self) -> bool {
        matches!(self, Outcome::Failed { .. } | Outcome::Skipped(_))
    }
}

fn options(
    lua: &Lua,
    kind: Kind,
    name: &str,
    opts: Option<Table>,
) -> mlua::Result<(Vec<String>, Duration)> {
    let (mut after, mut timeout) = (Vec::new(), kind.default_timeout());
    let Some(opts) = opts else {
        return Ok((after, timeout));
    };
    let function = kind.function();
    for pair in opts.pairs::<String, mlua::Value>() {
        let (key, value) = pair?;
        match (key.as_str(), value) {
            ("after", mlua::Value::String(s)) => after.push(s.to_str()?.to_string()),
            ("after", mlua::Value::Table(t)) => {
                for s in t.sequence_values::<String>() {
                    after.push(s?);
                }
            }
            ("timeout", mlua::Value::Integer(n)) if n > 0 => {
                timeout = Duration::from_secs(n as u64)
            }
            ("timeout", mlua::Value::Number(n)) if n > 0.0 => timeout = Duration::from_secs_f64(n),
            (key @ ("after" | "timeout"), v) => {
                return Err(location::error(
                    lua,
                    format!(
                        "{function} '{name}': {key} must be {}, got a {}",
                        if key == "after" {
                            format!("a {} name or a list of them", kind.noun())
                        } else {
                            "a positive number of seconds".into()
                        },
                        v.type_name()
                    ),
                ));
            }
            (other, _) => {
                return Err(location::error(
                    lua,
                    format!(
                        "{function} '{name}': unknown option '{other}' (known: after, timeout)"
                    ),
                ));
            }
        }
    }
    Ok((after, timeout))
}

/// The `labrun` function that declares tasks of `kind`:
/// `(name, fn, { after = {...}, timeout = secs })`.
pub fn declaring(lua: &Lua, kind: Kind) -> mlua::Result<Function> {
    if lua.app_data_ref::<Declared>().is_none() {
        lua.set_app_data(Declared::default());
    }
    lua.create_function(
        move |lua, (name, f, opts): (String, Function, Option<Table>)| {
            let (after, timeout) = options(lua, kind, &name, opts)?;
            let location = location::caller(lua);
            let mut declared = lua.app_data_mut::<Declared>().ok_or_else(|| {
                location::error(
                    lua,
                    format!("{}: no lab is being declared", kind.function()),
                )
            })?;
            let tasks = &mut declared.0[kind as usize];
            if let Some(other) = tasks.iter().find(|s| s.name == name) {
                return Err(location::error(
                    lua,
                    format!(
                        "{} '{name}' is already declared at {}",
                        kind.noun(),
                        other.location
                    ),
                ));
            }
            tasks.push(Task {
                name,
                f,
                after,
                timeout,
                location,
            });
            Ok(())
        },
    )
}

fn declared(lua: &Lua, kind: Kind) -> Vec<Task> {
    lua.app_data_ref::<Declared>()
        .map(|d| d.0[kind as usize].clone())
        .unwrap_or_default()
}

/// Names of the declared tasks of `kind`, in order.
pub fn names(lua: &Lua, kind: Kind) -> Vec<String> {
    declared(lua, kind).into_iter().map(|s| s.name).collect()
}

/// Each task of `kind` and the names of those it waits for, in order.
pub fn waits(lua: &Lua, kind: Kind) -> Vec<(String, Vec<String>)> {
    declared(lua, kind)
        .into_iter()
        .map(|s| (s.name, s.after))
        .collect()
}

/// Checks that every task waits only for declared tasks of its kind
/// declared before it (so there is no cycle).
pub fn validate(lua: &Lua) -> Result<(), ScriptError> {
    for kind in [Kind::Step, Kind::Check] {
        let tasks = declared(lua, kind);
        let (function, noun) = (kind.function(), kind.noun());
        for s in &tasks {
            for a in &s.after {
                if !tasks.iter().any(|o| o.name == *a) {
                    return Err(ScriptError::plain(format!(
                        "{}: {function} '{}' waits for '{a}', which is not a declared {noun}",
                        s.location, s.name
                    )));
                }
            }
        }
        for (i, ds) in dependencies(&tasks).iter().enumerate() {
            if let Some(&j) = ds.iter().find(|&&j| j >= i) {
                return Err(ScriptError::plain(format!(
                    "{}: {function} '{}' waits for '{}', declared after it",
                    tasks[i].location, tasks[i].name, tasks[j].name
                )));
            }
        }
    }
    Ok(())
}

fn dependencies(tasks: &[Task]) -> Vec<Vec<usize>> {
    tasks
        .iter()
        .map(|s| {
            s.after
                .iter()
                .filter_map(|a| tasks.iter().position(|o| o.name == *a))
                .collect()
        })
        .collect()
}

/// Runs the tasks of `kind` that `wanted` names, each once the tasks it
/// waits for are done (those not wanted count as done), independent ones
/// at the same time, each within its deadline, with `live` as argument.
/// `on_start` and `on_done` see each task begin and end (so the caller can
/// record it before a dependent starts). Returns every task's outcome, in
/// order.
pub async fn run(
    lua: &Lua,
    kind: Kind,
    live: &Live,
    wanted: impl Fn(&str) -> bool,
    on_start: impl Fn(&str),
    on_done: impl Fn(&str, &Outcome),
) -> Result<Vec<(String, Outcome)>, ScriptError> {
    let tasks = declared(lua, kind);
    let table = live.table(lua).map_err(ScriptError::from)?;
    let deps = dependencies(&tasks);
    let ended = std::sync::Mutex::new(vec![None; tasks.len()]);
    let walked = walk(&deps, tasks.len().max(1), |i| {
        let (task, table) = (&tasks[i], table.clone());
        let (wanted, on_start, on_done, ended) = (&wanted, &on_start, &on_done, &ended);
        async move {
            if !wanted(&task.name) {
                return Ok(());
            }
            on_start(&task.name);
            let started = Instant::now();
            let result =
                tokio::time::timeout(task.timeout, task.f.call_async::<mlua::Value>(table)).await;
            let took = started.elapsed();
            let outcome = match result.map(|r| r.map_err(|e| kind.reason(e))) {
                Ok(Ok(value)) => match kind.judge(value) {
                    Ok(()) => Outcome::Done(took),
                    Err(reason) => Outcome::Failed { reason, took },
                },
                Ok(Err(reason)) => Outcome::Failed { reason, took },
                Err(_) => Outcome::Failed {
                    reason: format!(
                        "did not finish within {} s (its timeout)",
                        task.timeout.as_secs_f64()
                    ),
                    took,
                },
            };
            on_done(&task.name, &outcome);
            let result = match &outcome {
                Outcome::Failed { reason, .. } => Err(reason.clone()),
                _ => Ok(()),
            };
            if let Ok(mut ended) = ended.lock() {
                ended[i] = Some(outcome);
            }
            result
        }
    })
    .await;
    let ended = ended.into_inner().unwrap_or_default();
    Ok(tasks
        .iter()
        .zip(walked)
        .zip(ended)
        .map(|((t, w), ended)| {
            let outcome = match (w, ended) {
                (Walked::Skipped(j), _) => Outcome::Skipped(tasks[j].name.clone()),
                (_, Some(outcome)) => outcome,
                (Walked::Done, None) => Outcome::LeftOut,
                (Walked::Failed(reason), None) => Outcome::Failed {
                    reason,
                    took: Duration::ZERO,
                },
            };
            (t.name.clone(), outcome)
        })
        .collect())
}

//! `labrun.after_up(name, fn, { after = {...}, timeout = 600 })`: steps run
//! once the lab is up, with its nodes reachable over SSH and its live
//! attributes (kubeadm init, copying files between nodes, waiting for an
//! API to answer...). Steps that do not wait for each other run at the same
//! time; each has its own deadline; each finished step is recorded by the
//! caller, so a failed one reruns from itself. `labrun.parallel` runs
//! functions at the same time inside a step; `labrun.sleep` waits without
//! holding up the other steps.

use super::live::Live;
use crate::engine::decl::Location;
use crate::engine::walk::{Outcome, walk};
use crate::lua::error::ScriptError;
use crate::lua::location;
use mlua::{Function, Lua, Table};
use std::time::{Duration, Instant};

/// A step's deadline unless it sets `timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// One declared step.
#[derive(Clone)]
struct Step {
    name: String,
    f: Function,
    after: Vec<String>,
    timeout: Duration,
    location: Location,
}

/// The steps a script declared, in order.
#[derive(Default, Clone)]
struct Declared(Vec<Step>);

/// How one step ended.
#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome {
    /// Finished in a run before this one.
    AlreadyDone,
    Done(Duration),
    Failed(String),
    /// Not run: a step it waits for failed.
    Skipped(String),
}

fn options(lua: &Lua, name: &str, opts: Option<Table>) -> mlua::Result<(Vec<String>, Duration)> {
    let (mut after, mut timeout) = (Vec::new(), DEFAULT_TIMEOUT);
    let Some(opts) = opts else {
        return Ok((after, timeout));
    };
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
                        "after_up '{name}': {key} must be {}, got a {}",
                        if key == "after" {
                            "a step name or a list of them"
                        } else {
                            "a positive number of seconds"
                        },
                        v.type_name()
                    ),
                ));
            }
            (other, _) => {
                return Err(location::error(
                    lua,
                    format!("after_up '{name}': unknown option '{other}' (known: after, timeout)"),
                ));
            }
        }
    }
    Ok((after, timeout))
}

/// Adds `labrun.after_up`, `labrun.parallel` and `labrun.sleep`.
pub fn register(lua: &Lua, labrun: &Table) -> mlua::Result<()> {
    lua.set_app_data(Declared::default());
    labrun.set(
        "after_up",
        lua.create_function(|lua, (name, f, opts): (String, Function, Option<Table>)| {
            let (after, timeout) = options(lua, &name, opts)?;
            let location = location::caller(lua);
            let mut declared = lua
                .app_data_mut::<Declared>()
                .ok_or_else(|| location::error(lua, "after_up: no lab is being declared"))?;
            if let Some(other) = declared.0.iter().find(|s| s.name == name) {
                return Err(location::error(
                    lua,
                    format!(
                        "after_up step '{name}' is already declared at {}",
                        other.location
                    ),
                ));
            }
            declared.0.push(Step {
                name,
                f,
                after,
                timeout,
                location,
            });
            Ok(())
        })?,
    )?;
    labrun.set(
        "sleep",
        lua.create_async_function(|lua, secs: f64| async move {
            if !(0.0..=86_400.0).contains(&secs) {
                return Err(location::error(
                    &lua,
                    format!("labrun.sleep: {secs} is not 0 to 86400 seconds"),
                ));
            }
            tokio::time::sleep(Duration::from_secs_f64(secs)).await;
            Ok(())
        })?,
    )?;
    labrun.set(
        "parallel",
        lua.create_async_function(|lua, tasks: Table| async move {
            let fs = tasks
                .sequence_values::<Function>()
                .collect::<mlua::Result<Vec<_>>>()?;
            let results =
                futures::future::join_all(fs.iter().map(|f| f.call_async::<mlua::Value>(()))).await;
            let out = lua.create_table()?;
            let mut failures = Vec::new();
            for (i, r) in results.into_iter().enumerate() {
                match r {
                    Ok(v) => out.raw_set(i + 1, v)?,
                    Err(e) => {
                        failures.push(format!("task {}: {}", i + 1, ScriptError::from(e).message))
                    }
                }
            }
            if failures.is_empty() {
                Ok(out)
            } else {
                Err(mlua::Error::runtime(format!(
                    "labrun.parallel: {} of {} failed: {}",
                    failures.len(),
                    fs.len(),
                    failures.join("; ")
                )))
            }
        })?,
    )
}

fn declared(lua: &Lua) -> Vec<Step> {
    lua.app_data_ref::<Declared>()
        .map(|d| d.0.clone())
        .unwrap_or_default()
}

/// Names of the declared steps, in order.
pub fn names(lua: &Lua) -> Vec<String> {
    declared(lua).into_iter().map(|s| s.name).collect()
}

/// Checks that every step waits only for declared steps, without a cycle.
pub fn check(lua: &Lua) -> Result<(), ScriptError> {
    let steps = declared(lua);
    for s in &steps {
        for a in &s.after {
            if !steps.iter().any(|o| o.name == *a) {
                return Err(ScriptError::plain(format!(
                    "{}: after_up '{}' waits for '{a}', which is not a declared step",
                    s.location, s.name
                )));
            }
        }
    }
    let deps = dependencies(&steps);
    // A step may only wait for steps declared before it: no cycle possible.
    for (i, ds) in deps.iter().enumerate() {
        if let Some(&j) = ds.iter().find(|&&j| j >= i) {
            return Err(ScriptError::plain(format!(
                "{}: after_up '{}' waits for '{}', declared after it",
                steps[i].location, steps[i].name, steps[j].name
            )));
        }
    }
    Ok(())
}

fn dependencies(steps: &[Step]) -> Vec<Vec<usize>> {
    steps
        .iter()
        .map(|s| {
            s.after
                .iter()
                .filter_map(|a| steps.iter().position(|o| o.name == *a))
                .collect()
        })
        .collect()
}

/// Runs the steps not in `done`, each once the steps it waits for are done,
/// independent ones at the same time, each within its deadline. `on_start`
/// and `on_done` see each step begin and end (so the caller can record it
/// before a dependent starts). Returns each step's outcome, in order.
pub async fn run(
    lua: &Lua,
    live: &Live,
    done: &[String],
    on_start: impl Fn(&str),
    on_done: impl Fn(&str, &StepOutcome),
) -> Result<Vec<(String, StepOutcome)>, ScriptError> {
    let steps = declared(lua);
    let table = live.table(lua).map_err(ScriptError::from)?;
    let deps = dependencies(&steps);
    let times = std::sync::Mutex::new(vec![Duration::ZERO; steps.len()]);
    let outcomes = walk(&deps, steps.len().max(1), |i| {
        let (step, table) = (&steps[i], table.clone());
        let (on_start, on_done, times) = (&on_start, &on_done, &times);
        async move {
            if done.contains(&step.name) {
                return Ok(());
            }
            on_start(&step.name);
            let started = Instant::now();
            let result = tokio::time::timeout(step.timeout, step.f.call_async::<()>(table)).await;
            if let Ok(mut t) = times.lock() {
                t[i] = started.elapsed();
            }
            let outcome = match result {
                Ok(Ok(())) => StepOutcome::Done(started.elapsed()),
                Ok(Err(e)) => StepOutcome::Failed(ScriptError::from(e).to_string()),
                Err(_) => StepOutcome::Failed(format!(
                    "did not finish within {} s (its timeout)",
                    step.timeout.as_secs()
                )),
            };
            on_done(&step.name, &outcome);
            match outcome {
                StepOutcome::Failed(e) => Err(e),
                _ => Ok(()),
            }
        }
    })
    .await;
    let times = times.into_inner().unwrap_or_default();
    Ok(steps
        .iter()
        .zip(outcomes)
        .zip(times)
        .map(|((s, o), t)| {
            let outcome = match o {
                Outcome::Done if done.contains(&s.name) => StepOutcome::AlreadyDone,
                Outcome::Done => StepOutcome::Done(t),
                Outcome::Failed(e) => StepOutcome::Failed(e),
                Outcome::Skipped(j) => StepOutcome::Skipped(steps[j].name.clone()),
            };
            (s.name.clone(), outcome)
        })
        .collect())
}

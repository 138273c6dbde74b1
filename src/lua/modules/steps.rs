//! `labrun.after_up(name, fn, { after = {...}, timeout = 600 })`: steps run
//! once the lab is up, with its nodes reachable over SSH and its live
//! attributes (kubeadm init, copying files between nodes, waiting for an
//! API to answer...). Steps that do not wait for each other run at the same
//! time; each has its own deadline; each finished step is recorded by the
//! caller, so a failed one reruns from itself. `labrun.parallel` runs
//! functions at the same time inside a step; `labrun.sleep` waits without
//! holding up the other steps.

use super::live::Live;
use super::tasks::{self, Kind, Outcome};
use crate::lua::error::ScriptError;
use crate::lua::location;
use mlua::{Function, Lua, Table};
use std::time::Duration;

/// Adds `labrun.after_up`, `labrun.parallel` and `labrun.sleep`.
pub fn register(lua: &Lua, labrun: &Table) -> mlua::Result<()> {
    labrun.set("after_up", tasks::declaring(lua, Kind::Step)?)?;
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

/// Names of the declared steps, in order.
pub fn names(lua: &Lua) -> Vec<String> {
    tasks::names(lua, Kind::Step)
}

/// Runs the steps not in `done`, each once the steps it waits for are done,
/// independent ones at the same time, each within its deadline. `on_start`
/// and `on_done` see each step begin and end (so the caller can record it
/// before a dependent starts). Returns each step's outcome, in order (those
/// in `done` as [`Outcome::LeftOut`]).
pub async fn run(
    lua: &Lua,
    live: &Live,
    done: &[String],
    on_start: impl Fn(&str),
    on_done: impl Fn(&str, &Outcome),
) -> Result<Vec<(String, Outcome)>, ScriptError> {
    let wanted = |name: &str| !done.iter().any(|d| d == name);
    tasks::run(lua, Kind::Step, live, wanted, on_start, on_done).await
}

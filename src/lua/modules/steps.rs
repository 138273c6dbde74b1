//! `labrun.after_up(name, fn)`: steps run once the lab is up, with its
//! nodes reachable over SSH and its live attributes (kubeadm init, copying
//! files between nodes, waiting for an API to answer...).

use super::ssh::{Node, route};
use crate::engine::state::State;
use crate::lua::error::ScriptError;
use crate::lua::location;
use crate::ssh::KeyPair;
use mlua::{Function, Lua, LuaSerdeExt, Table};
use std::time::Duration;

const REGISTRY: &str = "labrun.steps";

/// Adds `labrun.after_up`.
pub fn register(lua: &Lua, labrun: &Table) -> mlua::Result<()> {
    lua.set_named_registry_value(REGISTRY, lua.create_table()?)?;
    labrun.set(
        "after_up",
        lua.create_function(|lua, (name, f): (String, Function)| {
            let steps: Table = lua.named_registry_value(REGISTRY)?;
            for pair in steps.sequence_values::<Table>() {
                if pair?.get::<String>(1)? == name {
                    return Err(location::error(
                        lua,
                        format!("after_up step '{name}' is already declared"),
                    ));
                }
            }
            let step = lua.create_table()?;
            step.push(name)?;
            step.push(f)?;
            steps.push(step)
        })?,
    )
}

/// Names of the declared steps, in order.
pub fn names(lua: &Lua) -> Vec<String> {
    lua.named_registry_value::<Table>(REGISTRY)
        .map(|t| {
            t.sequence_values::<Table>()
                .filter_map(|s| s.ok()?.get(1).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Runs every step with a table `{ nodes = {name = node}, attrs = {address = {attr = value}}, outputs = {...} }`.
pub async fn run(
    lua: &Lua,
    state: &State,
    key: Option<KeyPair>,
    on_step: impl Fn(&str),
) -> Result<(), ScriptError> {
    let live = lua.create_table().map_err(ScriptError::from)?;
    let nodes = lua.create_table().map_err(ScriptError::from)?;
    if let Some(key) = key {
        for name in state.nodes.keys() {
            let r = route(&state.nodes, name).map_err(ScriptError::plain)?;
            let node = Node::new(r, key.clone(), Duration::from_secs(600));
            nodes.set(name.as_str(), node).map_err(ScriptError::from)?;
        }
    }
    let attrs: serde_json::Map<String, serde_json::Value> = state
        .resources
        .iter()
        .map(|(a, r)| {
            let mut m = serde_json::Map::from_iter(r.attrs.clone());
            m.insert("id".into(), r.id.clone().into());
            (a.clone(), serde_json::Value::Object(m))
        })
        .collect();
    let fill = || -> mlua::Result<()> {
        live.set("nodes", nodes.clone())?;
        live.set("attrs", lua.to_value(&attrs)?)?;
        live.set("outputs", lua.to_value(&state.outputs)?)?;
        Ok(())
    };
    fill().map_err(ScriptError::from)?;
    let steps: Table = lua
        .named_registry_value(REGISTRY)
        .map_err(ScriptError::from)?;
    for step in steps.sequence_values::<Table>() {
        let step = step.map_err(ScriptError::from)?;
        let name: String = step.get(1).map_err(ScriptError::from)?;
        let f: Function = step.get(2).map_err(ScriptError::from)?;
        on_step(&name);
        f.call_async::<()>(live.clone()).await.map_err(|e| {
            let mut err = ScriptError::from(e);
            err.message = format!("after_up step '{name}': {}", err.message);
            err
        })?;
    }
    Ok(())
}

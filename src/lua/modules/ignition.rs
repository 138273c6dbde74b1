//! `labrun.ignition`: Butane to Ignition in process, from YAML text or from
//! Lua tables in Butane's shape; validation and composition of fragments.

use crate::ignition::{self, Options};
use crate::lua::location;
use crate::lua::modules::template::ScriptDir;
use mlua::{Lua, LuaSerdeExt, Table};
use std::path::PathBuf;

/// Reads `{ files_dir = ..., strict = ... }`; a relative files_dir starts at the lab's folder.
fn options(lua: &Lua, opts: Option<Table>) -> mlua::Result<Options> {
    let mut o = Options::default();
    if let Some(t) = opts {
        if let Some(dir) = t.get::<Option<String>>("files_dir")? {
            let base = lua
                .app_data_ref::<ScriptDir>()
                .map(|d| d.0.clone())
                .unwrap_or_default();
            o.files_dir = Some(base.join(PathBuf::from(dir)));
        }
        if let Some(strict) = t.get::<Option<bool>>("strict")? {
            o.strict = strict;
        }
    }
    Ok(o)
}

fn json_of(lua: &Lua, v: mlua::Value, what: &str) -> mlua::Result<serde_json::Value> {
    lua.from_value(v)
        .map_err(|e| location::error(lua, format!("{what}: {e}")))
}

/// Adds `labrun.ignition.{butane, translate, merge, validate}`.
pub fn register(lua: &Lua, labrun: &Table) -> mlua::Result<()> {
    let m = lua.create_table()?;
    m.set(
        "butane",
        lua.create_function(|lua, (yaml, opts): (String, Option<Table>)| {
            let name = opts
                .as_ref()
                .map(|t| t.get::<Option<String>>("name"))
                .transpose()?
                .flatten()
                .unwrap_or_default();
            let o = options(lua, opts)?;
            let config =
                ignition::translate_yaml(&name, &yaml, &o).map_err(|e| location::error(lua, e))?;
            Ok(ignition::to_json_string(&config))
        })?,
    )?;
    m.set(
        "translate",
        lua.create_function(|lua, (config, opts): (mlua::Value, Option<Table>)| {
            let o = options(lua, opts)?;
            let tree = json_of(lua, config, "ignition.translate")?;
            let config =
                ignition::translate_value(&tree, &o).map_err(|e| location::error(lua, e))?;
            Ok(ignition::to_json_string(&config))
        })?,
    )?;
    m.set(
        "merge",
        lua.create_function(|lua, fragments: mlua::Variadic<mlua::Value>| {
            let mut merged = serde_json::Value::Object(Default::default());
            for f in fragments {
                merged = ignition::merge(&merged, &json_of(lua, f, "ignition.merge")?);
            }
            lua.to_value(&merged)
        })?,
    )?;
    m.set(
        "validate",
        lua.create_function(|lua, json: String| {
            ignition::validate(&json).map_err(|e| location::error(lua, e))?;
            Ok(true)
        })?,
    )?;
    labrun.set("ignition", m)
}

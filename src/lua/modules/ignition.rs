//! `labrun.ignition`: Butane to Ignition in process, from YAML text or from
//! Lua tables in Butane's shape; validation and composition of fragments.
//! Every translation's Butane source is remembered for `labrun render`.

use crate::ignition::{self, Options};
use crate::lua::location;
use crate::lua::modules::template::ScriptDir;
use mlua::{Lua, LuaSerdeExt, Table};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::path::PathBuf;

/// The Butane source of each config translated in a Lua state, keyed by the
/// Ignition JSON it gave.
#[derive(Debug, Default)]
pub struct Sources(HashMap<String, String>);

impl Sources {
    /// The Butane YAML that `ignition` was translated from, if it was.
    pub fn of(&self, ignition: &str) -> Option<&str> {
        self.0.get(ignition).map(String::as_str)
    }
}

/// Records `source` as the origin of `ignition` and returns `ignition`.
fn remember(lua: &Lua, ignition: String, source: String) -> String {
    if let Some(mut sources) = lua.app_data_mut::<Sources>() {
        sources.0.insert(ignition.clone(), source);
    }
    ignition
}

/// A Butane tree as YAML, keys in a stable order (`variant`, `version`,
/// `name`, `path` first, then alphabetical: Lua tables have no order). Empty
/// tables are left out: Lua cannot tell an empty list from an empty map, and
/// in Butane either means "none".
fn tree_yaml(tree: &Json) -> String {
    fn rank(key: &str) -> (usize, &str) {
        let first = ["variant", "version", "name", "path"];
        (
            first.iter().position(|k| *k == key).unwrap_or(first.len()),
            key,
        )
    }
    fn prune(v: &Json) -> Option<Json> {
        match v {
            Json::Object(m) => {
                let mut kept: Vec<_> = m
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), prune(v)?)))
                    .collect();
                kept.sort_by(|(a, _), (b, _)| rank(a).cmp(&rank(b)));
                (!kept.is_empty()).then(|| Json::Object(kept.into_iter().collect()))
            }
            Json::Array(items) => {
                let kept: Vec<_> = items.iter().filter_map(prune).collect();
                (!kept.is_empty()).then_some(Json::Array(kept))
            }
            other => Some(other.clone()),
        }
    }
    let pruned = prune(tree).unwrap_or_else(|| Json::Object(Default::default()));
    serde_saphyr::to_string(&pruned).unwrap_or_default()
}

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
    lua.set_app_data(Sources::default());
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
            Ok(remember(lua, ignition::to_json_string(&config), yaml))
        })?,
    )?;
    m.set(
        "translate",
        lua.create_function(|lua, (config, opts): (mlua::Value, Option<Table>)| {
            let o = options(lua, opts)?;
            let tree = json_of(lua, config, "ignition.translate")?;
            let config =
                ignition::translate_value(&tree, &o).map_err(|e| location::error(lua, e))?;
            Ok(remember(
                lua,
                ignition::to_json_string(&config),
                tree_yaml(&tree),
            ))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `lua/ignition.lua` runs as Lua and documents every function of the
    /// host modules it covers.
    #[test]
    fn editor_definitions_cover_the_host_api() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/lua/ignition.lua");
        let meta = std::fs::read_to_string(path).unwrap();
        let lua = Lua::new();
        lua.load(meta.as_str())
            .set_name("@lua/ignition.lua")
            .exec()
            .unwrap();
        let labrun = lua.create_table().unwrap();
        register(&lua, &labrun).unwrap();
        super::super::template::register(&lua, &labrun).unwrap();
        let mut names = Vec::new();
        for pair in labrun.pairs::<String, mlua::Value>() {
            let (key, value) = pair.unwrap();
            match value {
                mlua::Value::Table(t) => {
                    for inner in t.pairs::<String, mlua::Value>() {
                        names.push(format!("{key}.{}", inner.unwrap().0));
                    }
                }
                _ => names.push(key),
            }
        }
        names.sort();
        assert_eq!(names.len(), 7, "{names:?}");
        for name in names {
            assert!(
                meta.contains(&format!("function labrun.{name}(")),
                "lua/ignition.lua lacks labrun.{name}"
            );
        }
    }
}

//! `labrun.var(name, default)`: lab variables set with `--var name=value`.

use crate::lua::location;
use mlua::{Lua, Table};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

/// Variables given on the command line, and which of them the script read.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    pub given: BTreeMap<String, String>,
    pub read: Arc<Mutex<BTreeSet<String>>>,
}

impl Vars {
    /// Names given on the command line that the script never asked for.
    pub fn unused(&self) -> Vec<String> {
        let read = self.read.lock().map(|r| r.clone()).unwrap_or_default();
        self.given
            .keys()
            .filter(|k| !read.contains(*k))
            .cloned()
            .collect()
    }
}

/// Adds `labrun.var`.
pub fn register(lua: &Lua, labrun: &Table, vars: Vars) -> mlua::Result<()> {
    lua.set_app_data(vars);
    labrun.set(
        "var",
        lua.create_function(|lua, (name, default): (String, mlua::Value)| {
            let vars = lua
                .app_data_ref::<Vars>()
                .map(|v| v.clone())
                .unwrap_or_default();
            if let Ok(mut read) = vars.read.lock() {
                read.insert(name.clone());
            }
            let Some(given) = vars.given.get(&name) else {
                return Ok(default);
            };
            // A variable takes the type of its default.
            Ok(match default {
                mlua::Value::Integer(_) => mlua::Value::Integer(given.parse().map_err(|_| {
                    location::error(lua, format!("--var {name}={given}: expected an integer"))
                })?),
                mlua::Value::Number(_) => mlua::Value::Number(given.parse().map_err(|_| {
                    location::error(lua, format!("--var {name}={given}: expected a number"))
                })?),
                mlua::Value::Boolean(_) => mlua::Value::Boolean(match given.as_str() {
                    "true" | "yes" | "1" => true,
                    "false" | "no" | "0" => false,
                    _ => {
                        return Err(location::error(
                            lua,
                            format!("--var {name}={given}: expected true or false"),
                        ));
                    }
                }),
                _ => mlua::Value::String(lua.create_string(given)?),
            })
        })?,
    )
}

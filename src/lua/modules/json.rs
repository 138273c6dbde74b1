//! `labrun.json`: JSON encoding and decoding for scripts.

use crate::lua::location;
use mlua::{Lua, LuaSerdeExt, Table};

/// Adds `labrun.json.encode(value)` and `labrun.json.decode(string)`.
pub fn register(lua: &Lua, labrun: &Table) -> mlua::Result<()> {
    let json = lua.create_table()?;
    json.set(
        "encode",
        lua.create_function(|lua, v: mlua::Value| {
            let value: serde_json::Value = lua
                .from_value(v)
                .map_err(|e| location::error(lua, format!("json.encode: {e}")))?;
            serde_json::to_string(&value)
                .map_err(|e| location::error(lua, format!("json.encode: {e}")))
        })?,
    )?;
    json.set(
        "decode",
        lua.create_function(|lua, s: String| {
            let value: serde_json::Value = serde_json::from_str(&s)
                .map_err(|e| location::error(lua, format!("json.decode: {e}")))?;
            lua.to_value(&value)
        })?,
    )?;
    labrun.set("json", json)
}

//! `labrun.pin(name, value)`: pins a value in the lab's lock (`lock.json`
//! in its folder, kept across `down`) the first time, and returns the
//! pinned value ever after, so a lab rebuilt a year later uses the same
//! software; `labrun up --upgrade` pins what the script gives now.

use crate::lua::location;
use crate::secrets::Pinned;
use mlua::{Lua, LuaSerdeExt, Table};

/// The lock's entry holding the values scripts pin, by name.
const VALUES: &str = "values";

/// Adds `labrun.pin`.
pub fn register(lua: &Lua, labrun: &Table) -> mlua::Result<()> {
    labrun.set(
        "pin",
        lua.create_function(|lua, (name, value): (String, mlua::Value)| {
            let pinned = lua
                .app_data_ref::<Pinned>()
                .map(|p| p.clone())
                .filter(|p| p.0.is_open())
                .ok_or_else(|| {
                    location::error(lua, "labrun.pin: declare the lab first (labrun.lab{...})")
                })?;
            let given: serde_json::Value = lua
                .from_value(value)
                .map_err(|e| location::error(lua, format!("labrun.pin {name}: not data: {e}")))?;
            let mut all = match pinned.0.get(VALUES) {
                Some(serde_json::Value::Object(m)) => m,
                _ => serde_json::Map::new(),
            };
            let kept = all.entry(name).or_insert(given).clone();
            pinned.0.set(VALUES, serde_json::Value::Object(all));
            lua.to_value(&kept)
        })?,
    )
}

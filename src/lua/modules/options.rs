//! `labrun.options(what, opts, known)`: stdlib helpers refuse options they
//! do not know, with the nearest known name and the lab script's line.

use crate::lua::location;
use mlua::{Lua, Table};

/// Adds `labrun.options`.
pub fn register(lua: &Lua, labrun: &Table) -> mlua::Result<()> {
    labrun.set(
        "options",
        lua.create_function(
            |lua, (what, opts, known): (String, Option<Table>, Vec<String>)| {
                let Some(opts) = opts else { return Ok(()) };
                for pair in opts.pairs::<mlua::Value, mlua::Value>() {
                    let key = pair?.0.to_string()?;
                    if !known.contains(&key) {
                        return Err(location::error(
                            lua,
                            format!(
                                "{what}: unknown option '{key}'{} (known: {})",
                                crate::suggest::did_you_mean(
                                    &key,
                                    known.iter().map(String::as_str)
                                ),
                                known.join(", ")
                            ),
                        ));
                    }
                }
                Ok(())
            },
        )?,
    )
}

//! Where in a script a host function was called from, for error messages
//! and for recording where each resource was declared.

use crate::engine::decl::Location;
use mlua::Lua;

/// The chunk name of the lab script being loaded, so locations prefer it
/// over stdlib helpers it called.
#[derive(Debug, Clone)]
pub struct MainChunk(pub String);

/// The innermost Lua frame of the lab script itself if it is on the stack,
/// else the innermost Lua frame.
pub fn caller(lua: &Lua) -> Location {
    let main = lua.app_data_ref::<MainChunk>().map(|m| m.0.clone());
    let mut first = None;
    for level in 1..64 {
        let Some(frame) = lua.inspect_stack(level, |d| {
            let src = d.source();
            let what = src.what;
            // The whole name (`@path`): Lua's short_src cuts long paths to
            // "...", which would hide the lab script among the helpers.
            let file = match src.source.as_deref().and_then(|s| s.strip_prefix('@')) {
                Some(name) => name.to_string(),
                None => src.short_src.map(|s| s.to_string()).unwrap_or_default(),
            };
            let line = d.current_line().unwrap_or(0);
            (what, file, line)
        }) else {
            break;
        };
        let (what, file, line) = frame;
        if what == "C" || line == 0 {
            continue;
        }
        let here = Location { file, line };
        if main.as_deref() == Some(here.file.as_str()) {
            return here;
        }
        first.get_or_insert(here);
    }
    first.unwrap_or_default()
}

/// A Lua runtime error prefixed with the caller's `file:line`.
pub fn error(lua: &Lua, message: impl std::fmt::Display) -> mlua::Error {
    mlua::Error::RuntimeError(format!("{}: {message}", caller(lua)))
}

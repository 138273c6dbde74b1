//! `require` for the stdlib: modules embedded in the binary, overridable
//! from disk so they can be edited without recompiling.

use include_dir::{Dir, include_dir};
use mlua::{IntoLuaMulti, Lua, Table};
use std::path::{Path, PathBuf};

/// The stdlib as built into the binary.
pub static STDLIB: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/stdlib");

/// Folders searched before the embedded stdlib: `LABRUN_STDLIB`, then (for
/// a script on disk) a `stdlib/` next to the lab script, then one beside
/// the lab's folder. A lab built into the binary uses its own stdlib unless
/// `LABRUN_STDLIB` says otherwise.
pub fn override_dirs(script_dir: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("LABRUN_STDLIB")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .into_iter()
        .collect();
    if let Some(script_dir) = script_dir {
        dirs.push(script_dir.join("stdlib"));
        if let Some(parent) = script_dir.parent() {
            dirs.push(parent.join("stdlib"));
        }
    }
    dirs.retain(|d| d.join("labrun").is_dir());
    dirs
}

/// Finds a module's source: (chunk name, code).
pub fn find(name: &str, dirs: &[PathBuf]) -> Option<(String, String)> {
    let rel = name.replace('.', "/");
    let candidates = [format!("{rel}.lua"), format!("{rel}/init.lua")];
    for dir in dirs {
        for c in &candidates {
            let path = dir.join(c);
            if let Ok(code) = std::fs::read_to_string(&path) {
                return Some((path.display().to_string(), code));
            }
        }
    }
    for c in &candidates {
        if let Some(code) = STDLIB.get_file(c).and_then(|f| f.contents_utf8()) {
            return Some((format!("stdlib/{c}"), code.to_string()));
        }
    }
    None
}

/// Installs the stdlib searcher after `package.preload`, and limits the
/// plain Lua path to the lab's own folder (none for a built-in lab; no C
/// modules).
pub fn install(lua: &Lua, script_dir: Option<&Path>) -> mlua::Result<()> {
    let package: Table = lua.globals().get("package")?;
    let path = script_dir.map_or(String::new(), |d| {
        let dir = d.display();
        format!("{dir}/?.lua;{dir}/?/init.lua")
    });
    package.set("path", path)?;
    package.set("cpath", "")?;
    let dirs = override_dirs(script_dir);
    let searcher =
        lua.create_function(move |lua, name: String| -> mlua::Result<mlua::MultiValue> {
            match find(&name, &dirs) {
                Some((chunk, code)) => {
                    let f = lua
                        .load(code)
                        .set_name(format!("@{chunk}"))
                        .into_function()?;
                    (f, chunk).into_lua_multi(lua)
                }
                None => format!("\n\tno labrun stdlib module '{name}'").into_lua_multi(lua),
            }
        })?;
    let old: Table = package.get("searchers")?;
    // preload, labrun stdlib, Lua path; the C searchers are dropped.
    let new = lua.create_table()?;
    new.push(old.get::<mlua::Value>(1)?)?;
    new.push(searcher)?;
    new.push(old.get::<mlua::Value>(2)?)?;
    package.set("searchers", new)
}

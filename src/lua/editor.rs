//! Editor support: the LuaLS definitions of the host API and the stdlib,
//! written out of the binary (so they match its version) with a
//! `.luarc.json` pointing at them.

use crate::lab_folder::home;
use anyhow::{Context, Result};
use include_dir::{Dir, include_dir};
use std::path::{Path, PathBuf};

/// `lua/`: the `---@meta` definitions of the host API.
static DEFINITIONS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/lua");

/// Writes the definitions and the stdlib of this labrun version under the
/// labrun home; returns (definitions folder, stdlib folder).
pub fn write_library() -> Result<(PathBuf, PathBuf)> {
    let base = home()?.join("editor").join(env!("CARGO_PKG_VERSION"));
    let defs = base.join("lua");
    let stdlib = base.join("stdlib");
    for dir in [&defs, &stdlib] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    DEFINITIONS
        .extract(&defs)
        .with_context(|| format!("cannot write {}", defs.display()))?;
    super::loader::STDLIB
        .extract(&stdlib)
        .with_context(|| format!("cannot write {}", stdlib.display()))?;
    Ok((defs, stdlib))
}

/// The `.luarc.json` for a folder of labs.
pub fn luarc(defs: &Path, stdlib: &Path) -> String {
    let v = serde_json::json!({
        "$schema": "https://raw.githubusercontent.com/LuaLS/vscode-lua/master/setting/schema.json",
        "runtime.version": "Lua 5.4",
        "workspace.library": [defs.display().to_string(), stdlib.display().to_string()],
        "workspace.checkThirdParty": false,
        "diagnostics.globals": ["labrun"],
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

/// Writes `.luarc.json` into `dir` unless one is there; returns its path if written.
pub fn setup(dir: &Path) -> Result<Option<PathBuf>> {
    let path = dir.join(".luarc.json");
    if path.exists() {
        return Ok(None);
    }
    let (defs, stdlib) = write_library()?;
    std::fs::write(&path, luarc(&defs, &stdlib))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Some(path))
}

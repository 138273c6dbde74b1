//! The Lua host: a fresh Lua 5.4 state per script with the `labrun` global,
//! the stdlib loader, and scripts loaded as named chunks so every error
//! carries `file:line`.

pub mod convert;
pub mod error;
pub mod loader;
pub mod location;
pub mod modules;
pub mod secrets;

use crate::engine::decl::Declaration;
use crate::engine::provider::Provider;
use anyhow::Context;
use error::ScriptError;
use mlua::Lua;
use modules::lab::{Declared, Kinds};
use modules::vars::Vars;
use std::collections::BTreeMap;
use std::path::Path;

/// A loaded lab: its declaration, the files it generates, and the Lua
/// state that made them.
pub struct Loaded {
    pub decl: Declaration,
    pub files: Vec<modules::files::LabFile>,
    pub lua: Lua,
}

/// How to load a script.
pub struct LoadOptions<'a> {
    /// `--var` values.
    pub vars: &'a BTreeMap<String, String>,
    /// Entries of the lab's secrets to make anew instead of reusing (e.g.
    /// [`modules::pki::SECRET`]).
    pub renew: &'a [&'a str],
}

/// Runs a lab script and checks what it declared. No AWS call happens;
/// keys and certificates it asks for are generated (or reused) and saved
/// with the lab. Errors of the script are [`ScriptError`]s.
pub fn load_lab(
    path: &Path,
    opts: &LoadOptions<'_>,
    provider: &dyn Provider,
    kinds: Kinds,
) -> anyhow::Result<Loaded> {
    let vars = opts.vars;
    let shown = path.display().to_string();
    let code = std::fs::read_to_string(path)
        .map_err(|e| ScriptError::plain(format!("cannot read {shown}: {e}")))?;
    let script_dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let lua = Lua::new();
    let vars = Vars {
        given: vars.clone(),
        ..Default::default()
    };
    let setup = || -> mlua::Result<()> {
        let labrun = lua.create_table()?;
        modules::register_all(
            &lua,
            &labrun,
            modules::Context {
                kinds,
                vars: vars.clone(),
                script_dir: script_dir.clone(),
            },
        )?;
        lua.globals().set("labrun", labrun)?;
        loader::install(&lua, &script_dir)?;
        lua.set_app_data(location::MainChunk(shown.clone()));
        lua.set_app_data(secrets::LabSecrets::new(opts.renew.iter().copied()));
        Ok(())
    };
    setup().map_err(|e| ScriptError::plain(format!("cannot set up Lua: {e}")))?;
    lua.load(code)
        .set_name(format!("@{shown}"))
        .exec()
        .map_err(ScriptError::from)?;
    let mut decl = lua
        .app_data_ref::<Declared>()
        .and_then(|d| d.0.lock().ok().and_then(|mut g| g.take()))
        .ok_or_else(|| {
            ScriptError::plain(format!(
                "{shown}: the script never declares a lab (call labrun.lab{{ name = ... }})"
            ))
        })?;
    let unused = vars.unused();
    if !unused.is_empty() {
        return Err(ScriptError::plain(format!(
            "{shown}: --var {} given but the script never reads {} (labrun.var)",
            unused.join(", --var "),
            if unused.len() == 1 { "it" } else { "them" }
        ))
        .into());
    }
    provider
        .expand(&mut decl)
        .map_err(|e| ScriptError::plain(e.to_string()))?;
    decl.validate(&|k| provider.schema(k))
        .map_err(|e| ScriptError::plain(e.to_string()))?;
    provider
        .validate(&decl)
        .map_err(|e| ScriptError::plain(e.to_string()))?;
    if let Some(store) = lua.app_data_ref::<secrets::LabSecrets>() {
        store.save().context("cannot save the lab's secrets")?;
    }
    let files = modules::files::take(&lua);
    Ok(Loaded { decl, files, lua })
}

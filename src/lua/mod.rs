//! The Lua host: a fresh Lua 5.4 state per script with the `labrun` global,
//! the stdlib loader, and scripts loaded as named chunks so every error
//! carries `file:line`.

pub mod convert;
pub mod editor;
pub mod error;
pub mod loader;
pub mod location;
pub mod modules;
pub mod values;

use crate::engine::decl::Declaration;
use error::ScriptError;
use mlua::Lua;
use modules::lab::{Declared, Kinds, NameOnly, Stopped, TtlRule};
use modules::vars::Vars;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A lab script to run.
#[derive(Debug, Clone)]
pub struct Script {
    /// How errors name it: its path, or `builtin:NAME.lua`.
    pub name: String,
    pub code: String,
    /// The folder `labrun.file`, `require` and stdlib overrides start from;
    /// none for a lab built into the binary.
    pub dir: Option<PathBuf>,
}

impl Script {
    /// The script at `path`.
    pub fn read(path: &std::path::Path) -> Result<Script, ScriptError> {
        let name = path.display().to_string();
        let code = std::fs::read_to_string(path)
            .map_err(|e| ScriptError::plain(format!("cannot read {name}: {e}")))?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."))
            .to_path_buf();
        Ok(Script {
            name,
            code,
            dir: Some(dir),
        })
    }
}

/// A loaded lab: its declaration, the files it generates, and the Lua
/// state that made them (its after-up steps live there).
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
    /// The resource kinds scripts can declare.
    pub kinds: Kinds,
    /// How the lab's expiry follows from its time to live.
    pub ttl: TtlRule,
    /// Ignore the lab's lock and pin what is current.
    pub upgrade: bool,
    /// `labrun.public_address()` gives a documentation address without
    /// asking the network (for prices, which do not depend on it).
    pub stand_in_address: bool,
}

fn new_state(script: &Script, opts: &LoadOptions<'_>, vars: &Vars) -> Result<Lua, ScriptError> {
    let lua = Lua::new();
    let setup = || -> mlua::Result<()> {
        let labrun = lua.create_table()?;
        modules::register_all(
            &lua,
            &labrun,
            modules::Context {
                kinds: opts.kinds.clone(),
                vars: vars.clone(),
                script_dir: script.dir.clone().unwrap_or_else(|| PathBuf::from(".")),
            },
        )?;
        lua.globals().set("labrun", labrun)?;
        loader::install(&lua, script.dir.as_deref())?;
        lua.set_app_data(location::MainChunk(script.name.clone()));
        lua.set_app_data(crate::secrets::LabSecrets::new(opts.renew.iter().copied()));
        lua.set_app_data(opts.ttl.clone());
        lua.set_app_data(crate::secrets::Pinned::new(opts.upgrade));
        if opts.stand_in_address {
            modules::public_ip::stand_in(&lua);
        }
        Ok(())
    };
    setup().map_err(|e| ScriptError::plain(format!("cannot set up Lua: {e}")))?;
    Ok(lua)
}

/// A Lua state with the host modules and the stdlib but no lab script,
/// `require` and `labrun.file` starting from the current folder: the
/// REPL's when no lab is given.
pub fn bare(kinds: Kinds) -> Result<Lua, ScriptError> {
    let script = Script {
        name: "stdin".into(),
        code: String::new(),
        dir: Some(PathBuf::from(".")),
    };
    let opts = LoadOptions {
        vars: &BTreeMap::new(),
        renew: &[],
        kinds,
        ttl: TtlRule::default(),
        upgrade: false,
        stand_in_address: false,
    };
    new_state(&script, &opts, &Vars::default())
}

fn take_declared(lua: &Lua) -> Option<Declaration> {
    lua.app_data_ref::<Declared>()
        .and_then(|d| d.0.lock().ok().and_then(|mut g| g.take()))
}

/// Runs a lab script and returns what it declared. No AWS call happens;
/// keys and certificates it asks for are generated (or reused) and kept in
/// its secret store ([`crate::secrets::LabSecrets`], saved by the caller).
/// Errors of the script are [`ScriptError`]s.
pub fn load_lab(script: &Script, opts: &LoadOptions<'_>) -> Result<Loaded, ScriptError> {
    let vars = Vars {
        given: opts.vars.clone(),
        ..Default::default()
    };
    let lua = new_state(script, opts, &vars)?;
    lua.load(script.code.as_str())
        .set_name(format!("@{}", script.name))
        .exec()
        .map_err(ScriptError::from)?;
    let decl = take_declared(&lua).ok_or_else(|| {
        ScriptError::plain(format!(
            "{}: the script never declares a lab (call labrun.lab{{ name = ... }})",
            script.name
        ))
    })?;
    let unused = vars.unused();
    if !unused.is_empty() {
        return Err(ScriptError::plain(format!(
            "{}: --var {} given but the script never reads {} (labrun.var)",
            script.name,
            unused.join(", --var "),
            if unused.len() == 1 { "it" } else { "them" }
        )));
    }
    let files = modules::files::take(&lua);
    Ok(Loaded { decl, files, lua })
}

/// The (name, region) of the lab a script declares, running it only up to
/// `labrun.lab{...}`: no key or certificate is made.
pub fn lab_of(script: &Script, opts: &LoadOptions<'_>) -> Result<(String, String), ScriptError> {
    let vars = Vars {
        given: opts.vars.clone(),
        ..Default::default()
    };
    let lua = new_state(script, opts, &vars)?;
    lua.set_app_data(NameOnly);
    let result = lua
        .load(script.code.as_str())
        .set_name(format!("@{}", script.name))
        .exec();
    match (result, take_declared(&lua)) {
        (_, Some(decl)) => Ok((decl.lab, decl.region)),
        (Err(e), None) if !is_stop(&e) => Err(ScriptError::from(e)),
        _ => Err(ScriptError::plain(format!(
            "{}: the script never declares a lab (call labrun.lab{{ name = ... }})",
            script.name
        ))),
    }
}

fn is_stop(e: &mlua::Error) -> bool {
    match e {
        mlua::Error::CallbackError { cause, .. } => is_stop(cause),
        mlua::Error::ExternalError(inner) => inner.downcast_ref::<Stopped>().is_some(),
        _ => false,
    }
}

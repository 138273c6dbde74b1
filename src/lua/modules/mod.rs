//! The host modules scripts see under the `labrun` global, one file each,
//! registered from the one list in [`register_all`].

pub mod files;
pub mod ignition;
pub mod json;
pub mod lab;
pub mod live;
pub mod options;
pub mod pin;
pub mod pki;
pub mod public_ip;
pub mod secret;
pub mod ssh;
pub mod steps;
pub mod template;
pub mod vars;
pub mod wireguard;

use mlua::{Lua, Table};

/// What the host modules need from the caller.
pub struct Context {
    pub kinds: lab::Kinds,
    pub vars: vars::Vars,
    pub script_dir: std::path::PathBuf,
}

/// Registers every host module into the `labrun` table.
pub fn register_all(lua: &Lua, labrun: &Table, cx: Context) -> mlua::Result<()> {
    lab::register(lua, labrun, cx.kinds)?;
    vars::register(lua, labrun, cx.vars)?;
    json::register(lua, labrun)?;
    lua.set_app_data(template::ScriptDir(cx.script_dir));
    template::register(lua, labrun)?;
    ignition::register(lua, labrun)?;
    options::register(lua, labrun)?;
    pin::register(lua, labrun)?;
    pki::register(lua, labrun)?;
    public_ip::register(lua, labrun)?;
    secret::register(lua, labrun)?;
    ssh::register(lua, labrun)?;
    steps::register(lua, labrun)?;
    wireguard::register(lua, labrun)?;
    Ok(())
}

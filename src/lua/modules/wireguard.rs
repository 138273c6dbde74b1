//! `labrun.wireguard`: the lab's WireGuard keys, made once and kept in its
//! secrets (entry `wireguard`, renewed as a whole) so clients configured
//! once keep working across down and up, and the server and client configs
//! made from them.

use crate::lua::location;
use crate::secrets::LabSecrets;
use crate::wireguard::{ClientConfig, PresharedKey, PrivateKey, ServerConfig};
use mlua::{Lua, LuaSerdeExt, Table};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The entry of the lab's secrets that holds its WireGuard keys.
pub const SECRET: &str = "wireguard";

/// What the entry holds: private keys and preshared keys by name.
#[derive(Default, Clone, Serialize, Deserialize)]
struct Keys {
    #[serde(default)]
    keys: BTreeMap<String, PrivateKey>,
    #[serde(default)]
    preshared: BTreeMap<String, PresharedKey>,
}

/// The keys of this load.
#[derive(Default)]
struct ThisLoad {
    /// What the lab had before this load; read at the first request.
    stored: Option<Keys>,
    /// Every key the script asked for so far: what is stored after it.
    asked: Keys,
}

/// The key named `name` in `pick(stored)`, made if missing, recorded as
/// asked for in this load and stored with the lab.
fn stored_or_new<T: Clone>(
    lua: &Lua,
    function: &str,
    name: &str,
    pick: fn(&mut Keys) -> &mut BTreeMap<String, T>,
    generate: fn() -> crate::wireguard::Result<T>,
) -> mlua::Result<T> {
    let fail = |what: String| location::error(lua, format!("labrun.wireguard.{function}: {what}"));
    if name.is_empty() {
        return Err(fail("the key needs a name".into()));
    }
    let secrets = lua
        .app_data_ref::<LabSecrets>()
        .map(|s| s.clone())
        .filter(LabSecrets::is_open)
        .ok_or_else(|| {
            fail("declare the lab first (labrun.lab{ name = ... }): keys are kept with it".into())
        })?;
    let mut load = lua
        .app_data_mut::<ThisLoad>()
        .ok_or_else(|| fail("not set up".into()))?;
    if load.stored.is_none() {
        let stored = (secrets.get(SECRET).map(serde_json::from_value))
            .transpose()
            .map_err(|e| {
                fail(format!(
                    "the lab's stored keys (secrets.json, entry {SECRET}) are unreadable: {e}"
                ))
            })?;
        load.stored = Some(stored.unwrap_or_default());
    }
    let ThisLoad { stored, asked } = &mut *load;
    if let Some(key) = pick(asked).get(name) {
        return Ok(key.clone());
    }
    let key = match pick(stored.as_mut().expect("read above")).get(name) {
        Some(key) => key.clone(),
        None => generate().map_err(|e| fail(e.to_string()))?,
    };
    pick(asked).insert(name.to_string(), key.clone());
    let json = serde_json::to_value(&*asked).map_err(|e| fail(e.to_string()))?;
    secrets.set(SECRET, json);
    Ok(key)
}

/// `labrun.wireguard.{function}`: reads its table as a `T` and renders it.
fn renderer<T: serde::de::DeserializeOwned + 'static>(
    lua: &Lua,
    function: &'static str,
    render: fn(&T) -> crate::wireguard::Result<String>,
) -> mlua::Result<mlua::Function> {
    lua.create_function(move |lua, t: Table| {
        let config: T = lua.from_value(mlua::Value::Table(t)).map_err(|e| {
            let e = match e {
                mlua::Error::DeserializeError(what) => what,
                other => other.to_string(),
            };
            location::error(lua, format!("labrun.wireguard.{function}: {e}"))
        })?;
        render(&config).map_err(|e| location::error(lua, e))
    })
}

/// Adds `labrun.wireguard`.
pub fn register(lua: &Lua, labrun: &Table) -> mlua::Result<()> {
    lua.set_app_data(ThisLoad::default());
    let m = lua.create_table()?;
    m.set(
        "key",
        lua.create_function(|lua, name: String| {
            let key = stored_or_new(lua, "key", &name, |k| &mut k.keys, PrivateKey::generate)?;
            let t = lua.create_table()?;
            t.set("private", key.to_base64())?;
            t.set("public", key.public_key().to_string())?;
            Ok(t)
        })?,
    )?;
    m.set(
        "preshared",
        lua.create_function(|lua, name: String| {
            let pick: fn(&mut Keys) -> &mut _ = |k| &mut k.preshared;
            let key = stored_or_new(lua, "preshared", &name, pick, PresharedKey::generate)?;
            Ok(key.to_base64())
        })?,
    )?;
    m.set(
        "server_config",
        renderer(lua, "server_config", ServerConfig::render)?,
    )?;
    m.set(
        "client_config",
        renderer(lua, "client_config", ClientConfig::render)?,
    )?;
    labrun.set("wireguard", m)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `lua/wireguard.lua` runs as Lua and documents every function of
    /// `labrun.wireguard`.
    #[test]
    fn editor_definitions_cover_the_host_api() {
        let meta = include_str!("../../../lua/wireguard.lua");
        let lua = Lua::new();
        lua.globals()
            .set("labrun", lua.create_table().unwrap())
            .unwrap();
        lua.load(meta)
            .set_name("@lua/wireguard.lua")
            .exec()
            .unwrap();
        let labrun = lua.create_table().unwrap();
        register(&lua, &labrun).unwrap();
        let m: Table = labrun.get("wireguard").unwrap();
        let mut names = 0;
        for pair in m.pairs::<String, mlua::Value>() {
            let name = pair.unwrap().0;
            let documented = format!("function labrun.wireguard.{name}(");
            assert!(meta.contains(&documented), "lua/wireguard.lua lacks {name}");
            names += 1;
        }
        assert_eq!(names, 4);
    }
}

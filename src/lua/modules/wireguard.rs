//! `labrun.wireguard`: the lab's WireGuard keys and its clients' tunnel
//! addresses, made once and kept in its secrets (entry `wireguard`, renewed
//! as a whole by `--renew-keys`) so clients configured once keep working
//! across down and up and as other clients come and go, and the server and
//! client configs made from them.

use crate::lua::location;
use crate::secrets::LabSecrets;
use crate::wireguard::{ClientConfig, PresharedKey, PrivateKey, ServerConfig, is_host_of};
use ipnet::Ipv4Net;
use mlua::{AppDataRefMut, Lua, LuaSerdeExt, Table};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::net::Ipv4Addr;

/// The entry of the lab's secrets that holds its WireGuard keys.
pub const SECRET: &str = "wireguard";

/// What the entry holds: private keys, preshared keys and clients' tunnel
/// addresses, by name.
#[derive(Default, Clone, Serialize, Deserialize)]
struct Keys {
    #[serde(default)]
    keys: BTreeMap<String, PrivateKey>,
    #[serde(default)]
    preshared: BTreeMap<String, PresharedKey>,
    #[serde(default)]
    addresses: BTreeMap<String, Ipv4Addr>,
}

/// The keys of this load.
#[derive(Default)]
struct ThisLoad {
    /// What the lab had before this load; read at the first request.
    stored: Option<Keys>,
    /// Every key the script asked for so far: what is stored after it.
    asked: Keys,
}

/// This load's keys, with what the lab had before read at the first
/// request, and the lab's secret store they are kept in.
fn this_load<'a>(
    lua: &'a Lua,
    fail: &dyn Fn(String) -> mlua::Error,
) -> mlua::Result<(LabSecrets, AppDataRefMut<'a, ThisLoad>)> {
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
    Ok((secrets, load))
}

/// Stores what this load asked for as the lab's entry.
fn keep(
    secrets: &LabSecrets,
    asked: &Keys,
    fail: &dyn Fn(String) -> mlua::Error,
) -> mlua::Result<()> {
    let json = serde_json::to_value(asked).map_err(|e| fail(e.to_string()))?;
    secrets.set(SECRET, json);
    Ok(())
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
    let (secrets, mut load) = this_load(lua, &fail)?;
    let ThisLoad { stored, asked } = &mut *load;
    if let Some(key) = pick(asked).get(name) {
        return Ok(key.clone());
    }
    let key = match pick(stored.as_mut().expect("read by this_load")).get(name) {
        Some(key) => key.clone(),
        None => generate().map_err(|e| fail(e.to_string()))?,
    };
    pick(asked).insert(name.to_string(), key.clone());
    keep(&secrets, asked, &fail)?;
    Ok(key)
}

/// Whether `name` can name a client: it names its config file and a
/// comment in the server's config.
fn is_client_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The tunnel address of client `name` in the net of `server` (the
/// server's address with its prefix): the one stored for it while it is
/// still a free host of that net, else the lowest host address neither the
/// server nor another client (asked for in this load or stored) holds.
/// So a client keeps its address while others come and go.
fn client_address(lua: &Lua, name: &str, server: &str) -> mlua::Result<Ipv4Addr> {
    let fail = |what: String| location::error(lua, format!("labrun.wireguard.address: {what}"));
    if !is_client_name(name) {
        return Err(fail(format!(
            "client name {name:?} must be 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' (it names the client's config file)"
        )));
    }
    let server: Ipv4Net = server.parse().map_err(|_| {
        fail(format!(
            "{server:?} is not the server's address with the tunnel net's prefix, e.g. \"10.200.0.1/24\""
        ))
    })?;
    let net = server.trunc();
    let (secrets, mut load) = this_load(lua, &fail)?;
    let ThisLoad { stored, asked } = &mut *load;
    let stored = stored.as_ref().expect("read by this_load");
    if let Some(address) = asked.addresses.get(name) {
        return Ok(*address);
    }
    let mut taken: HashSet<Ipv4Addr> = asked.addresses.values().copied().collect();
    taken.insert(server.addr());
    let kept = (stored.addresses.get(name).copied())
        .filter(|a| is_host_of(&net, *a) && !taken.contains(a));
    let others = stored.addresses.iter().filter(|(n, _)| *n != name);
    taken.extend(others.map(|(_, a)| *a));
    let address = kept
        .or_else(|| net.hosts().find(|a| !taken.contains(a)))
        .ok_or_else(|| {
            fail(format!(
                "the tunnel net {net} has no free address for {name}"
            ))
        })?;
    asked.addresses.insert(name.to_string(), address);
    keep(&secrets, asked, &fail)?;
    Ok(address)
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
        "address",
        lua.create_function(|lua, (name, server): (String, String)| {
            client_address(lua, &name, &server).map(|a| a.to_string())
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
        assert_eq!(names, 5);
    }
}

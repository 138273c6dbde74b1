//! `labrun.public_address()`: this machine's public IPv4 address as a /32
//! (asked once per run of a script), for rules open to the user alone.

use crate::lua::location;
use mlua::{Lua, Table};

/// The address found during this run of the script.
struct Found(String);

/// Makes `labrun.public_address()` give a documentation address (RFC 5737)
/// without asking the network: for prices, which do not depend on it.
pub fn stand_in(lua: &Lua) {
    lua.set_app_data(Found("192.0.2.1/32".to_string()));
}

/// Adds `labrun.public_address`.
pub fn register(lua: &Lua, labrun: &Table) -> mlua::Result<()> {
    labrun.set(
        "public_address",
        lua.create_function(|lua, ()| {
            if let Some(found) = lua.app_data_ref::<Found>() {
                return Ok(found.0.clone());
            }
            let ip = crate::public_ip::lookup().map_err(|e| {
                location::error(
                    lua,
                    format!(
                        "cannot find your public address to open the lab's ports to you alone ({}: {e}); give it as a CIDR (your address/32, or 0.0.0.0/0 to allow anyone): the shipped labs take --var ssh_from=CIDR, and the VPN and Kubernetes labs --var vpn_from=CIDR too",
                        crate::public_ip::service()
                    ),
                )
            })?;
            let cidr = format!("{ip}/32");
            lua.set_app_data(Found(cidr.clone()));
            Ok(cidr)
        })?,
    )
}

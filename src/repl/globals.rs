//! The globals a lab brings into the REPL: `lab` (name, region,
//! `resources[address]` with ID and live attributes, `outputs`), `nodes`
//! (SSH nodes with `:run`, `:put`, `:get`, `:shell`) and `aws` (read-only
//! looks at instances, their console output included).

use super::pretty::RESOURCE;
use crate::aws::Aws;
use crate::engine::state::State;
use crate::session::live::{live, user_key};
use mlua::{Lua, LuaSerdeExt, Table};
use std::sync::Arc;
use tokio::sync::OnceCell;

/// The `lab` table of a state.
fn lab_table(lua: &Lua, state: &State) -> mlua::Result<Table> {
    let lab = lua.create_table()?;
    lab.set("name", state.lab.as_str())?;
    lab.set("region", state.region.as_str())?;
    if let Some(e) = state.expires {
        lab.set("expires_at", e.at)?;
    }
    let resources = lua.create_table()?;
    for (address, r) in &state.resources {
        let t = lua.create_table()?;
        t.set("kind", r.kind.as_str())?;
        t.set("id", r.id.clone())?;
        for (k, v) in &r.attrs {
            t.set(k.as_str(), lua.to_value(v)?)?;
        }
        let meta = lua.create_table()?;
        meta.set("__name", RESOURCE)?;
        meta.set("address", address.as_str())?;
        t.set_metatable(Some(meta))?;
        resources.set(address.as_str(), t)?;
    }
    lab.set("resources", resources)?;
    lab.set("outputs", lua.to_value(&state.outputs)?)?;
    Ok(lab)
}

/// The instance ID `name` means: an ID, an address, or an instance's name.
fn instance_id(state: &State, name: &str) -> mlua::Result<String> {
    if name.starts_with("i-") {
        return Ok(name.to_string());
    }
    let address = if name.contains('.') {
        name.to_string()
    } else {
        format!("instance.{name}")
    };
    (state.resources.get(&address))
        .and_then(|r| r.id.clone())
        .ok_or_else(|| {
            let known: Vec<&str> = (state.resources.iter())
                .filter(|(_, r)| r.kind == "instance")
                .map(|(a, _)| a.trim_start_matches("instance."))
                .collect();
            mlua::Error::runtime(format!(
                "no instance '{name}' in lab {} (instances: {})",
                state.lab,
                known.join(", ")
            ))
        })
}

/// The `aws` table: connects on first use, in the lab's region.
fn aws_table(lua: &Lua, state: &State) -> mlua::Result<Table> {
    let aws = lua.create_table()?;
    let client: Arc<OnceCell<Aws>> = Arc::new(OnceCell::new());
    let state = Arc::new(state.clone());
    let connect = {
        let (client, region) = (client.clone(), state.region.clone());
        move || {
            let (client, region) = (client.clone(), region.clone());
            async move {
                client
                    .get_or_try_init(|| Aws::connect(&region))
                    .await
                    .cloned()
                    .map_err(|e| mlua::Error::runtime(format!("{e:#}")))
            }
        }
    };
    let (c, s) = (connect.clone(), state.clone());
    aws.set(
        "instance",
        lua.create_async_function(move |lua, name: String| {
            let (connect, state) = (c.clone(), s.clone());
            async move {
                let id = instance_id(&state, &name)?;
                let v = connect().await?.describe_instance(&id).await;
                lua.to_value(&v.map_err(mlua::Error::external)?)
            }
        })?,
    )?;
    aws.set(
        "console",
        lua.create_async_function(move |_, name: String| {
            let (connect, state) = (connect.clone(), state.clone());
            async move {
                let id = instance_id(&state, &name)?;
                let out = connect().await?.console_output(&id).await;
                out.map_err(mlua::Error::external)
            }
        })?,
    )?;
    Ok(aws)
}

/// Sets `lab`, `nodes` and `aws` in `lua` from the lab's state.
pub fn install(lua: &Lua, state: &State) -> anyhow::Result<()> {
    let key = user_key(&state.lab)?;
    let live = live(state, key).map_err(anyhow::Error::msg)?;
    let g = lua.globals();
    g.set("lab", lab_table(lua, state)?)?;
    g.set("nodes", live.table(lua)?.get::<Table>("nodes")?)?;
    g.set("aws", aws_table(lua, state)?)?;
    Ok(())
}

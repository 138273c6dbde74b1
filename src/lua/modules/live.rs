//! The live context of a lab that is up, as Lua sees it: `{ lab, nodes =
//! { name = node }, attrs = { address = { attr = value } }, outputs }`.
//! After-up steps get it, and so do checks and the REPL.

use super::ssh::Node;
use crate::ssh::{KeyPair, Target};
use indexmap::IndexMap;
use mlua::{Lua, LuaSerdeExt, Table};
use serde_json::Value as Json;
use std::time::Duration;

/// What is known of a lab once it is up.
#[derive(Debug, Clone, Default)]
pub struct Live {
    pub lab: String,
    /// Each node and its route (jump hosts first, the node last).
    pub nodes: Vec<(String, Vec<Target>)>,
    /// The lab's user key; without it, no node is reachable.
    pub key: Option<KeyPair>,
    /// Every resource's attributes, `id` included, by address.
    pub attrs: serde_json::Map<String, Json>,
    pub outputs: IndexMap<String, Json>,
    /// The lab's ssh_config, for `node:shell()` with the system ssh.
    pub ssh_config: Option<std::path::PathBuf>,
}

/// How long a node keeps being tried while it boots.
const CONNECT_DEADLINE: Duration = Duration::from_secs(600);

impl Live {
    /// The Lua table of the live context.
    pub fn table(&self, lua: &Lua) -> mlua::Result<Table> {
        let live = lua.create_table()?;
        let nodes = lua.create_table()?;
        if let Some(key) = &self.key {
            for (name, route) in &self.nodes {
                let mut node = Node::new(route.clone(), key.clone(), CONNECT_DEADLINE);
                if let Some(config) = &self.ssh_config {
                    node = node.with_shell(config.clone(), name.clone());
                }
                nodes.set(name.as_str(), node)?;
            }
        }
        live.set("lab", self.lab.as_str())?;
        live.set("nodes", nodes)?;
        live.set("attrs", lua.to_value(&self.attrs)?)?;
        live.set("outputs", lua.to_value(&self.outputs)?)?;
        Ok(live)
    }
}

//! What is known of a lab once it is up: its nodes with their addresses
//! and routes, the user key that reaches them, and the live context that
//! after-up steps, checks and the REPL get.

use crate::engine::decl::Declaration;
use crate::engine::state::{NodeState, State};
use crate::engine::value::Resolved;
use crate::lab_folder::{LabFolder, SSH_CONFIG};
use crate::lua::modules::live::Live;
use crate::secrets::LabSecrets;
use crate::ssh::{KeyPair, PublicKey, Target};
use anyhow::Result;
use indexmap::IndexMap;

/// The declared nodes with their addresses from the state; nodes whose
/// address is not known (their resource failed) are left out.
pub fn resolve_nodes(decl: &Declaration, state: &State) -> IndexMap<String, NodeState> {
    decl.nodes
        .iter()
        .filter_map(|(name, n)| {
            let Resolved::Known(host) = n.host.resolve(&|r| state.attr(&r.address, &r.attr)) else {
                return None;
            };
            let host = host.as_str().filter(|h| !h.is_empty())?.to_string();
            let node = NodeState {
                host,
                port: n.port,
                user: n.user.clone(),
                jump: n.jump.clone(),
                host_key: n.host_key.clone(),
            };
            Some((name.clone(), node))
        })
        .collect()
}

/// The route to a node of the state: its jump hosts first, itself last.
pub fn route(nodes: &IndexMap<String, NodeState>, name: &str) -> Result<Vec<Target>, String> {
    let mut route = Vec::new();
    let mut at = Some(name.to_string());
    while let Some(n) = at {
        let node = nodes
            .get(&n)
            .ok_or_else(|| format!("no node named '{n}' in this lab"))?;
        let key = PublicKey::from_openssh(&node.host_key).map_err(|e| e.to_string())?;
        route.insert(
            0,
            Target::new(node.host.clone(), node.user.clone(), key).with_port(node.port),
        );
        if route.len() > nodes.len() {
            return Err(format!("node '{name}' jumps in a circle"));
        }
        at = node.jump.clone();
    }
    Ok(route)
}

/// The lab's user key, read from its secrets (nothing is made).
pub fn user_key(lab: &str) -> Result<Option<KeyPair>> {
    let store = LabSecrets::default();
    store.open(lab)?;
    Ok(crate::lua::modules::ssh::user_key(&store))
}

/// The live context of a lab from its state (`node:shell()` uses the lab's
/// ssh_config if `up` wrote one).
pub fn live(state: &State, key: Option<KeyPair>) -> Result<Live, String> {
    let ssh_config = LabFolder::of(&state.lab)
        .map(|f| f.path(SSH_CONFIG))
        .ok()
        .filter(|p| p.exists());
    let nodes = state
        .nodes
        .keys()
        .map(|name| Ok((name.clone(), route(&state.nodes, name)?)))
        .collect::<Result<_, String>>()?;
    let attrs = state
        .resources
        .iter()
        .map(|(a, r)| {
            let mut m = serde_json::Map::from_iter(r.attrs.clone());
            m.insert("id".into(), r.id.clone().into());
            (a.clone(), serde_json::Value::Object(m))
        })
        .collect();
    Ok(Live {
        lab: state.lab.clone(),
        nodes,
        key,
        attrs,
        outputs: state.outputs.clone(),
        ssh_config,
    })
}

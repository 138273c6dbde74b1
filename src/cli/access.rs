//! What the user gets to reach a lab: its nodes resolved after apply, and
//! `ssh_config`, `known_hosts` and the lab's key in the lab folder.

use crate::engine::decl::Declaration;
use crate::engine::state::{NodeState, State, lab_dir, write_private_file};
use crate::engine::value::Resolved;
use crate::lua::secrets::LabSecrets;
use crate::ssh::{ConfigHost, KeyPair, PublicKey, Target, render_known_hosts, render_ssh_config};
use anyhow::{Context, Result};
use indexmap::IndexMap;
use std::path::PathBuf;

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

/// The lab's user key, from its secrets.
pub fn user_key(lab: &str) -> Result<Option<KeyPair>> {
    let store = LabSecrets::default();
    store.open(lab)?;
    Ok(crate::lua::modules::ssh::user_key(&store))
}

/// Removes what `up` wrote for the user (the lab is gone); its secrets stay.
pub fn remove_files(lab: &str) -> Result<()> {
    let dir = lab_dir(lab)?;
    for name in ["ssh_config", "known_hosts", "id_ed25519", "id_ed25519.pub"] {
        match std::fs::remove_file(dir.join(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e)
                    .with_context(|| format!("cannot remove {}", dir.join(name).display()));
            }
            _ => {}
        }
    }
    match std::fs::remove_dir_all(dir.join("files")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", dir.join("files").display()))
        }
        _ => Ok(()),
    }
}

/// Paths of the files written for the user.
pub fn ssh_config_path(lab: &str) -> Result<PathBuf> {
    Ok(lab_dir(lab)?.join("ssh_config"))
}

/// Writes `ssh_config`, `known_hosts`, `id_ed25519` (0600) and `id_ed25519.pub`.
pub fn write_files(
    lab: &str,
    nodes: &IndexMap<String, NodeState>,
    key: &KeyPair,
) -> Result<Vec<PathBuf>> {
    let dir = lab_dir(lab)?;
    let hosts = nodes
        .iter()
        .map(|(alias, n)| {
            let host_key = PublicKey::from_openssh(&n.host_key)
                .with_context(|| format!("host key of node {alias}"))?;
            Ok(ConfigHost {
                alias: alias.clone(),
                target: Target::new(n.host.clone(), n.user.clone(), host_key).with_port(n.port),
                proxy_jump: n.jump.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let identity = dir.join("id_ed25519");
    let known = dir.join("known_hosts");
    let config = ssh_config_path(lab)?;
    write_private_file(&identity, key.to_openssh().as_bytes())?;
    write_private_file(
        &dir.join("id_ed25519.pub"),
        (key.public_key().to_openssh() + "\n").as_bytes(),
    )?;
    write_private_file(&known, render_known_hosts(&hosts).as_bytes())?;
    write_private_file(
        &config,
        render_ssh_config(&hosts, &identity, &known).as_bytes(),
    )?;
    Ok(vec![config, known, identity])
}

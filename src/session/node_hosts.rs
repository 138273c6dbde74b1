//! `LABRUN_NODE_HOSTS`: other addresses for some of a lab's nodes than the
//! ones its script gives, e.g. `gateway=root@127.0.0.1:2201,control-01=127.0.0.11:2202`.
//! The tests point a lab's nodes at sshd servers on loopback with it; a
//! user can reach a node through a forward of their own. Host keys are
//! still the lab's: the node found there must present its key.

use super::InputError;
use crate::engine::state::NodeState;
use indexmap::IndexMap;

/// The variable's name.
pub const VAR: &str = "LABRUN_NODE_HOSTS";

/// Where one node is to be reached instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeHost {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

/// `NAME=[USER@]HOST[:PORT]` entries separated by commas.
pub fn parse(text: &str) -> Result<IndexMap<String, NodeHost>, String> {
    let mut out = IndexMap::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let bad = || format!("{VAR}: '{entry}' is not NAME=[USER@]HOST[:PORT]");
        let (name, at) = entry.split_once('=').ok_or_else(bad)?;
        let (user, address) = match at.split_once('@') {
            Some((u, a)) => (Some(u.to_string()), a),
            None => (None, at),
        };
        let (host, port) = match address.rsplit_once(':') {
            Some((h, p)) => (h, Some(p.parse::<u16>().map_err(|_| bad())?)),
            None => (address, None),
        };
        if name.is_empty() || host.is_empty() || user.as_deref() == Some("") {
            return Err(bad());
        }
        let node = NodeHost {
            user,
            host: host.to_string(),
            port,
        };
        out.insert(name.to_string(), node);
    }
    Ok(out)
}

/// The entries of `LABRUN_NODE_HOSTS` (none when unset).
pub fn from_env() -> Result<IndexMap<String, NodeHost>, InputError> {
    match std::env::var(VAR) {
        Ok(text) => parse(&text).map_err(InputError),
        Err(_) => Ok(IndexMap::new()),
    }
}

/// `nodes` with the addresses of `hosts` put in.
pub fn apply(nodes: &mut IndexMap<String, NodeState>, hosts: &IndexMap<String, NodeHost>) {
    for (name, at) in hosts {
        if let Some(node) = nodes.get_mut(name) {
            node.host.clone_from(&at.host);
            if let Some(port) = at.port {
                node.port = port;
            }
            if let Some(user) = &at.user {
                node.user.clone_from(user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_name_a_user_host_and_port_each_optional_but_the_host() {
        let hosts = parse("gateway=root@127.0.0.1:2201, control-01=127.0.0.11").unwrap();
        assert_eq!(
            hosts["gateway"],
            NodeHost {
                user: Some("root".into()),
                host: "127.0.0.1".into(),
                port: Some(2201)
            }
        );
        assert_eq!(
            hosts["control-01"],
            NodeHost {
                user: None,
                host: "127.0.0.11".into(),
                port: None
            }
        );
        let mut nodes = IndexMap::from([(
            "control-01".to_string(),
            NodeState {
                host: "10.10.16.11".into(),
                port: 22,
                user: "core".into(),
                jump: Some("gateway".into()),
                host_key: "k".into(),
            },
        )]);
        apply(&mut nodes, &hosts);
        let node = &nodes["control-01"];
        assert_eq!(
            (node.host.as_str(), node.port, node.user.as_str()),
            ("127.0.0.11", 22, "core")
        );
        assert_eq!(node.jump.as_deref(), Some("gateway"));
    }

    #[test]
    fn malformed_entries_are_refused_with_the_entry() {
        for bad in [
            "gateway",
            "=127.0.0.1",
            "gw=",
            "gw=@h",
            "gw=h:port",
            "gw=h:70000",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(bad) && e.contains(VAR), "{bad}: {e}");
        }
    }
}

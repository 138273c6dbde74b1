//! Stand-ins for a whole Kubernetes lab (the gateway and the three control
//! nodes of labs/kube.lua and labs/kube-kubeadm.lua) made of
//! [`StandinNode`]s and [`TlsServer`]s, and how to run `labrun up` against
//! them.

use super::standin_nodes::{NodeSpec, StandinNode, TlsServer, calls, loopback, node_hosts};
use super::{Labrun, text};
use labrun::session::node_hosts::VAR;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The control nodes of both Kubernetes labs, with their addresses in AWS.
pub const NODES: [(&str, &str); 3] = [
    ("control-01", "10.10.16.11"),
    ("control-02", "10.10.16.12"),
    ("control-03", "10.10.16.13"),
];

/// A lab of stand-in nodes for `lab` (rendered into `rendered`): the
/// gateway on `127.A.B.base`, the nodes on the next addresses, the API
/// endpoint (`api.kubelius:6443` on every node and the gateway) a TLS
/// server with control-01's API server certificate that lets in clients of
/// the lab's CA. `peers` lists the nodes that join together.
pub struct Standins {
    /// The folder the stand-ins record their calls in (and read their cues from).
    pub record: tempfile::TempDir,
    nodes: Vec<StandinNode>,
    /// The API endpoint, then each control node's API server (drop one to
    /// take it down).
    pub servers: Vec<TlsServer>,
    rendered: PathBuf,
    hosts: String,
    /// Each node's standin.env, in the order of `nodes`.
    envs: Vec<String>,
}

impl Standins {
    /// Starts the stand-ins for `lab`, rendered into `rendered`.
    pub fn start(
        labrun: &Labrun,
        lab: &str,
        rendered: &Path,
        base: u8,
        peers: &[&str],
    ) -> Standins {
        let record = tempfile::tempdir().unwrap();
        let pki = rendered.join("control-01/etc/kubernetes/pki");
        // clients chain to the kubernetes CA, which chains to the root
        let clients = record.path().join("client-ca.pem");
        let bundle = std::fs::read_to_string(pki.join("ca.crt")).unwrap()
            + &std::fs::read_to_string(pki.join("root-ca.crt")).unwrap();
        std::fs::write(&clients, bundle).unwrap();
        let endpoint = loopback(base + 9);
        let mut servers = vec![TlsServer::start(
            &endpoint,
            6443,
            &pki.join("apiserver.crt"),
            &pki.join("apiserver.key"),
            Some(&clients),
        )];
        // each node's own API server, for curl on the nodes
        let mut connect_to = Vec::new();
        for (i, (name, ip)) in NODES.iter().enumerate() {
            let address = loopback(base + 1 + i as u8);
            let port = super::sshd::free_port(&address);
            let pki = rendered.join(name).join("etc/kubernetes/pki");
            servers.push(TlsServer::start(
                &address,
                port,
                &pki.join("apiserver.crt"),
                &pki.join("apiserver.key"),
                None,
            ));
            connect_to.push(format!("{ip}:6443:{address}:{port}"));
        }
        let hosts = format!("{endpoint} api.kubelius");
        let env = |name: &str| {
            let others: Vec<&str> = peers.iter().copied().filter(|p| *p != name).collect();
            format!(
                "NODE={name}\nRECORD={}\nPEERS=\"{}\"\nCONNECT_TO=\"{}\"\n",
                record.path().display(),
                if peers.contains(&name) {
                    others.join(" ")
                } else {
                    String::new()
                },
                connect_to.join(" ")
            )
        };
        let envs: Vec<String> = ["gateway"]
            .iter()
            .chain(NODES.iter().map(|(n, _)| n))
            .map(|n| env(n))
            .collect();
        let mut nodes = vec![StandinNode::start(
            labrun,
            lab,
            &NodeSpec {
                name: "gateway",
                address: &loopback(base),
                rendered: None,
                hosts: &hosts,
                env: &envs[0],
            },
        )];
        for (i, (name, _)) in NODES.iter().enumerate() {
            nodes.push(StandinNode::start(
                labrun,
                lab,
                &NodeSpec {
                    name,
                    address: &loopback(base + 1 + i as u8),
                    rendered: Some(&rendered.join(name)),
                    hosts: &hosts,
                    env: &envs[i + 1],
                },
            ));
        }
        Standins {
            record,
            nodes,
            servers,
            rendered: rendered.to_path_buf(),
            hosts,
            envs,
        }
    }

    /// Replaces node `name` by one fresh from its rendered files, as AWS
    /// makes a reclaimed spot node again: nothing kubeadm wrote is left.
    pub fn remake(&mut self, labrun: &Labrun, lab: &str, name: &str) {
        let i = self.nodes.iter().position(|n| n.name == name).unwrap();
        let address = self.nodes[i].sshd.target.host.clone();
        self.nodes[i] = StandinNode::start(
            labrun,
            lab,
            &NodeSpec {
                name,
                address: &address,
                rendered: Some(&self.rendered.join(name)),
                hosts: &self.hosts,
                env: &self.envs[i],
            },
        );
    }

    /// The calls the stand-ins recorded, as "NODE PROGRAM ARGS..." lines.
    pub fn calls(&self) -> Vec<String> {
        calls(self.record.path())
    }

    /// The stand-in of node `name`.
    pub fn node(&self, name: &str) -> &StandinNode {
        self.nodes.iter().find(|n| n.name == name).unwrap()
    }

    /// The copies the stand-ins kept of what `program-what` was given on `node`.
    pub fn copies(&self, node: &str, what: &str) -> Vec<PathBuf> {
        (1..)
            .map(|n| self.record.path().join(format!("{node}-{what}-{n}.yaml")))
            .take_while(|p| p.exists())
            .collect()
    }

    /// `labrun up ARGS --yes` with the nodes at the stand-ins, to run.
    pub fn up_command(&self, labrun: &Labrun, args: &[&str]) -> Command {
        let mut c = labrun.command(&[&["up", "--yes"], args].concat());
        c.env(VAR, node_hosts(&self.nodes));
        c
    }

    /// `labrun up ARGS --yes` with the nodes at the stand-ins, run to its end.
    pub fn up(&self, labrun: &Labrun, args: &[&str]) -> Output {
        self.up_command(labrun, args).output().unwrap()
    }
}

/// `labrun render ARGS` into a new folder.
pub fn render(labrun: &Labrun, args: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = labrun.run(&[&["render"], args, &[dir.path().to_str().unwrap()]].concat());
    assert!(out.status.success(), "{}", text(&out));
    dir
}

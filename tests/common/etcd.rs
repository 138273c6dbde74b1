//! Three real etcd members (Debian's etcd-server) on loopback, each run with
//! the command of the static pod manifest a Kubernetes lab renders for it
//! and the certificates it made: paths mapped into the rendered folder, and
//! each member's address (10.10.16.11-13, ports 2379-2381) mapped to
//! 127.0.0.1 and a free port, an address the certificates name as they
//! name the node's own.

use super::kube_standins::NODES;
use super::sshd::free_port;
use super::{Labrun, text};
use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// An etcd process, killed on drop, its output in a log file.
pub struct Etcd {
    child: Child,
    log: PathBuf,
}

impl Etcd {
    /// Starts etcd with `args`, its output in `log`.
    pub fn start(args: &[String], log: PathBuf) -> Etcd {
        let out = File::create(&log).unwrap();
        let child = Command::new("etcd")
            .args(args)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("etcd runs (Debian's etcd-server; .ci/setup installs it)");
        Etcd { child, log }
    }

    /// What it has printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether it has exited.
    pub fn exited(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `n` distinct free ports.
pub fn ports(n: usize) -> Vec<u16> {
    let mut set = BTreeSet::new();
    while set.len() < n {
        set.insert(free_port("127.0.0.1"));
    }
    set.into_iter().collect()
}

/// Polls `f` every 200 ms until it gives a value, for at most `secs`
/// seconds; on timeout, panics with `what` and the members' logs.
pub fn wait_for<T>(
    what: &str,
    secs: u64,
    members: &[&Etcd],
    mut f: impl FnMut() -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = f() {
            return value;
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let logs: Vec<String> = members.iter().map(|m| m.log()).collect();
            panic!(
                "timed out waiting for {what}; logs:\n{}",
                logs.join("\n-----\n")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Where a member's URLs move on loopback: (client, local client, peer,
/// metrics) ports on 127.0.0.1.
#[derive(Clone, Copy)]
pub struct Ports {
    pub client: u16,
    pub local: u16,
    pub peer: u16,
    pub metrics: u16,
}

/// `url` moved to loopback: a member's `https://IP:2379` and `:2380` to its
/// client and peer ports; this member's own `https://127.0.0.1:2379` and
/// `http://127.0.0.1:2381` to its local client and metrics ports.
pub fn moved_url(url: &str, me: usize, ports: &[Ports]) -> String {
    if url == "https://127.0.0.1:2379" {
        return format!("https://127.0.0.1:{}", ports[me].local);
    }
    if url == "http://127.0.0.1:2381" {
        return format!("http://127.0.0.1:{}", ports[me].metrics);
    }
    for (i, (_, ip)) in NODES.iter().enumerate() {
        if url == format!("https://{ip}:2379") {
            return format!("https://127.0.0.1:{}", ports[i].client);
        }
        if url == format!("https://{ip}:2380") {
            return format!("https://127.0.0.1:{}", ports[i].peer);
        }
    }
    url.to_string()
}

/// The etcd arguments of the static pod `manifest` of member `me`, for
/// the node whose `/` is `root`: each absolute path moved under `root`
/// (after checking that the pod mounts it from the host), each URL (in
/// lists and `name=URL` pairs) moved to loopback.
pub fn manifest_args(manifest: &Path, root: &Path, me: usize, ports: &[Ports]) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let pod: serde_json::Value = serde_saphyr::from_str(&text).expect("the manifest is YAML");
    assert_eq!(pod["kind"], "Pod");
    assert_eq!(pod["metadata"]["namespace"], "kube-system");
    assert_eq!(pod["spec"]["hostNetwork"], true);
    let container = &pod["spec"]["containers"][0];
    let strings = |v: &serde_json::Value| -> Vec<String> {
        (v.as_array().unwrap().iter())
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    let mounts = strings(&serde_json::Value::Array(
        (container["volumeMounts"].as_array().unwrap().iter())
            .map(|m| m["mountPath"].clone())
            .collect(),
    ));
    let command = strings(&container["command"]);
    assert_eq!(command[0], "etcd");
    (command[1..].iter())
        .map(|arg| match arg.split_once('=') {
            Some((flag, path)) if path.starts_with('/') => {
                assert!(
                    mounts.iter().any(|m| path.starts_with(m.as_str())),
                    "{arg} is not in a mounted folder ({mounts:?})"
                );
                format!("{flag}={}", root.join(&path[1..]).display())
            }
            Some((flag, value)) => {
                let items: Vec<String> = (value.split(','))
                    .map(|item| match item.split_once("=") {
                        Some((name, url)) => format!("{name}={}", moved_url(url, me, ports)),
                        None => moved_url(item, me, ports),
                    })
                    .collect();
                format!("{flag}={}", items.join(","))
            }
            None => arg.clone(),
        })
        .collect()
}

/// etcdctl (API v3) against `endpoints` with a CA and a client certificate.
pub fn etcdctl(endpoints: &str, ca: &Path, cert: &Path, key: &Path, args: &[&str]) -> Output {
    Command::new("etcdctl")
        .env_clear()
        .env("ETCDCTL_API", "3")
        .arg(format!("--endpoints={endpoints}"))
        .args(["--dial-timeout=2s", "--command-timeout=5s", "--cacert"])
        .arg(ca)
        .arg("--cert")
        .arg(cert)
        .arg("--key")
        .arg(key)
        .args(args)
        .output()
        .expect("etcdctl runs (Debian's etcd-client)")
}

/// The cluster's members as (name, client URLs); an unstarted member has
/// no name.
pub fn members(list: &Output) -> Vec<(String, usize)> {
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    (v["members"].as_array().unwrap().iter())
        .map(|m| {
            let name = m["name"].as_str().unwrap_or_default().to_string();
            (name, m["clientURLs"].as_array().map_or(0, Vec::len))
        })
        .collect()
}

/// A lab's three etcd members running on loopback.
pub struct Cluster {
    /// The lab as `labrun render` wrote it: one folder per node (its `/`).
    pub rendered: tempfile::TempDir,
    /// The members' logs, and room for more.
    pub work: tempfile::TempDir,
    /// Where each member's URLs moved.
    pub moved: Vec<Ports>,
    /// Each member's arguments, as its manifest says, moved.
    pub args: Vec<Vec<String>>,
    pub members: Vec<Etcd>,
    /// Ports for a fourth member.
    pub spare: Ports,
}

impl Cluster {
    /// Renders the lab `lab` names (a script and its `--var`s) with
    /// `labrun` (so with the lab's stored PKI), starts the three members
    /// exactly as their manifests say, and waits until all three answer
    /// healthy to the apiserver's etcd client certificate.
    pub fn start(labrun: &Labrun, lab: &[&str]) -> Cluster {
        Cluster::start_as(labrun, lab, lab)
    }

    /// [`Cluster::start`] for a lab that leaves etcd's manifests to
    /// kubeadm (labs/kube-kubeadm.lua): its members run with the
    /// certificates `lab` rendered and the flags of the manifests
    /// `manifests` renders (labs/kube.lua writes kubeadm's own, to the
    /// same paths under /etc/kubernetes/pki).
    pub fn start_as(labrun: &Labrun, lab: &[&str], manifests: &[&str]) -> Cluster {
        let rendered = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let render = |lab: &[&str], dir: &Path| {
            let dir = dir.to_str().unwrap();
            let out = labrun.run(&[&["render"], lab, &[dir]].concat());
            assert!(out.status.success(), "{}", text(&out));
        };
        render(lab, rendered.path());
        let manifest_dir = match manifests == lab {
            true => None,
            false => {
                let dir = tempfile::tempdir().unwrap();
                render(manifests, dir.path());
                Some(dir)
            }
        };
        let manifest_root = manifest_dir.as_ref().map_or(rendered.path(), |d| d.path());
        let p = ports(16);
        let member = |i: usize| Ports {
            client: p[4 * i],
            local: p[4 * i + 1],
            peer: p[4 * i + 2],
            metrics: p[4 * i + 3],
        };
        let moved: Vec<Ports> = (0..3).map(member).collect();
        let args: Vec<Vec<String>> = (NODES.iter().enumerate())
            .map(|(i, (n, _))| {
                let manifest = manifest_root
                    .join(n)
                    .join("etc/kubernetes/manifests/etcd.yaml");
                manifest_args(&manifest, &rendered.path().join(n), i, &moved)
            })
            .collect();
        let members = (NODES.iter().zip(&args))
            .map(|((node, _), args)| Etcd::start(args, work.path().join(format!("{node}.log"))))
            .collect();
        let cluster = Cluster {
            rendered,
            work,
            moved,
            args,
            members,
            spare: member(3),
        };
        wait_for("three healthy members", 60, &cluster.logs(), || {
            let out = cluster.ctl(&cluster.all(), &["endpoint", "health", "-w", "json"]);
            let health: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
            let healthy = (health.as_array()?.iter())
                .filter(|e| e["health"] == true)
                .count();
            (out.status.success() && healthy == 3).then_some(())
        });
        cluster
    }

    /// The rendered `/` of `node`.
    pub fn node_root(&self, node: &str) -> PathBuf {
        self.rendered.path().join(node)
    }

    /// control-01's /etc/kubernetes/pki.
    pub fn pki(&self) -> PathBuf {
        self.node_root("control-01").join("etc/kubernetes/pki")
    }

    /// Member `i`'s client URL.
    pub fn endpoint(&self, i: usize) -> String {
        format!("https://127.0.0.1:{}", self.moved[i].client)
    }

    /// Every member's client URL.
    pub fn all(&self) -> String {
        (0..3)
            .map(|i| self.endpoint(i))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// etcdctl with the lab's CA and the apiserver's etcd client certificate.
    pub fn ctl(&self, endpoints: &str, args: &[&str]) -> Output {
        let pki = self.pki();
        etcdctl(
            endpoints,
            &pki.join("etcd/ca.crt"),
            &pki.join("apiserver-etcd-client.crt"),
            &pki.join("apiserver-etcd-client.key"),
            args,
        )
    }

    /// The members, for their logs.
    pub fn logs(&self) -> Vec<&Etcd> {
        self.members.iter().collect()
    }
}

//! Three real etcd members (Debian's etcd-server) on loopback, each run with
//! the command of the static pod manifest labs/kube.lua renders for it and
//! the certificates it made: paths mapped into a temp folder, and each
//! member's address (10.10.16.11-13, ports 2379-2381) mapped to 127.0.0.1
//! and a free port, an address the certificates name as they name the
//! node's own.

mod common;

use common::Labrun;
use common::openssl::{foreign_cert, signed_by};
use common::sshd::free_port;
use common::text;
use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const NODES: [(&str, &str); 3] = [
    ("control-01", "10.10.16.11"),
    ("control-02", "10.10.16.12"),
    ("control-03", "10.10.16.13"),
];

/// An etcd process, killed on drop, its output in a log file.
struct Etcd {
    child: Child,
    log: PathBuf,
}

impl Etcd {
    fn start(args: &[String], log: PathBuf) -> Etcd {
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

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether it has exited.
    fn exited(&mut self) -> bool {
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
fn ports(n: usize) -> Vec<u16> {
    let mut set = BTreeSet::new();
    while set.len() < n {
        set.insert(free_port("127.0.0.1"));
    }
    set.into_iter().collect()
}

/// Polls `f` every 200 ms until it gives a value, for at most `secs`
/// seconds; on timeout, panics with `what` and the members' logs.
fn wait_for<T>(what: &str, secs: u64, members: &[&Etcd], mut f: impl FnMut() -> Option<T>) -> T {
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
struct Ports {
    client: u16,
    local: u16,
    peer: u16,
    metrics: u16,
}

/// `url` moved to loopback: a member's `https://IP:2379` and `:2380` to its
/// client and peer ports; this member's own `https://127.0.0.1:2379` and
/// `http://127.0.0.1:2381` to its local client and metrics ports.
fn moved_url(url: &str, me: usize, ports: &[Ports]) -> String {
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

/// The etcd arguments of the manifest labrun rendered under `root` (a
/// node's `/`) for member `me`: each absolute path moved under `root`
/// (after checking that the pod mounts it from the host), each URL (in
/// lists and `name=URL` pairs) moved to loopback.
fn manifest_args(root: &Path, me: usize, ports: &[Ports]) -> Vec<String> {
    let text = std::fs::read_to_string(root.join("etc/kubernetes/manifests/etcd.yaml")).unwrap();
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
fn etcdctl(endpoints: &str, ca: &Path, cert: &Path, key: &Path, args: &[&str]) -> Output {
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
fn members(list: &Output) -> Vec<(String, usize)> {
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    (v["members"].as_array().unwrap().iter())
        .map(|m| {
            let name = m["name"].as_str().unwrap_or_default().to_string();
            (name, m["clientURLs"].as_array().map_or(0, Vec::len))
        })
        .collect()
}

#[test]
fn etcd_members_run_from_labruns_manifests_form_a_cluster_that_checks_certificates() {
    let labrun = Labrun::offline();
    let out = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let render = labrun.run(&["render", "labs/kube.lua", out.path().to_str().unwrap()]);
    assert!(render.status.success(), "{}", text(&render));
    let p = ports(16);
    let member = |i: usize| Ports {
        client: p[4 * i],
        local: p[4 * i + 1],
        peer: p[4 * i + 2],
        metrics: p[4 * i + 3],
    };
    let moved: Vec<Ports> = (0..3).map(member).collect();
    let node_root = |node: &str| out.path().join(node);
    let pki = node_root("control-01").join("etc/kubernetes/pki");
    let etcd_ca = pki.join("etcd/ca.crt");
    let (client_cert, client_key) = (
        pki.join("apiserver-etcd-client.crt"),
        pki.join("apiserver-etcd-client.key"),
    );
    let endpoint = |i: usize| format!("https://127.0.0.1:{}", moved[i].client);
    let all = (0..3).map(endpoint).collect::<Vec<_>>().join(",");
    let ctl = |endpoints: &str, args: &[&str]| {
        etcdctl(endpoints, &etcd_ca, &client_cert, &client_key, args)
    };

    // The API server of each node talks to the three members' client URLs.
    for (node, _) in NODES {
        let text = std::fs::read_to_string(
            node_root(node).join("etc/kubernetes/manifests/kube-apiserver.yaml"),
        )
        .unwrap();
        assert!(
            text.contains(
                "--etcd-servers=https://10.10.16.11:2379,https://10.10.16.12:2379,https://10.10.16.13:2379"
            ),
            "{node}"
        );
    }

    // The three members, exactly as their manifests say.
    let args: Vec<Vec<String>> = (NODES.iter().enumerate())
        .map(|(i, (n, _))| manifest_args(&node_root(n), i, &moved))
        .collect();
    let cluster: Vec<Etcd> = (NODES.iter().zip(&args))
        .map(|((node, _), args)| Etcd::start(args, work.path().join(format!("{node}.log"))))
        .collect();
    let logs: Vec<&Etcd> = cluster.iter().collect();

    // Three healthy members, with the apiserver-etcd-client certificate.
    wait_for("three healthy members", 60, &logs, || {
        let out = ctl(&all, &["endpoint", "health", "-w", "json"]);
        let health: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        let healthy = (health.as_array()?.iter())
            .filter(|e| e["health"] == true)
            .count();
        (out.status.success() && healthy == 3).then_some(())
    });
    let list = ctl(&endpoint(0), &["member", "list", "-w", "json"]);
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    let mut names = members(&list);
    names.sort();
    assert_eq!(
        names,
        [
            ("control-01".into(), 1),
            ("control-02".into(), 1),
            ("control-03".into(), 1)
        ]
    );

    // A key written through one member is read through another.
    let put = ctl(
        &endpoint(0),
        &["put", "/labrun/pki", "written-by-control-01"],
    );
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );
    let get = ctl(&endpoint(2), &["get", "/labrun/pki", "--print-value-only"]);
    assert!(
        get.status.success(),
        "{}",
        String::from_utf8_lossy(&get.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&get.stdout).trim(),
        "written-by-control-01"
    );

    // The same client name from another CA (even one called etcd-ca) is refused.
    let (_, foreign, foreign_key) = foreign_cert(
        work.path(),
        "etcd-ca",
        "kube-apiserver-etcd-client",
        "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n",
    );
    let refused = etcdctl(
        &endpoint(1),
        &etcd_ca,
        &foreign,
        &foreign_key,
        &["get", "/labrun/pki"],
    );
    assert!(!refused.status.success(), "a foreign client read the key");
    assert!(!String::from_utf8_lossy(&refused.stdout).contains("written-by"));
    wait_for("control-02 to log the refusal", 10, &logs, || {
        let log = cluster[1].log();
        log.lines()
            .any(|l| l.contains("rejected connection") && l.contains("unknown authority"))
            .then_some(())
    });

    // A peer whose certificate (signed by the right CA) is for another IP
    // cannot join. On loopback every peer connects from 127.0.0.1, which
    // the lab's peer certificates name, so this one names only the wrong
    // IP: the members refuse its connections, and it cannot serve theirs.
    let (wrong, wrong_key) = signed_by(
        work.path(),
        &etcd_ca,
        &pki.join("etcd/ca.key"),
        "control-04",
        "subjectAltName=IP:127.0.0.99\nextendedKeyUsage=serverAuth,clientAuth\n\
         keyUsage=critical,digitalSignature,keyEncipherment\n",
    );
    let fourth = member(3);
    let peer_url = format!("https://127.0.0.1:{}", fourth.peer);
    let add = ctl(
        &endpoint(0),
        &[
            "member",
            "add",
            "control-04",
            &format!("--peer-urls={peer_url}"),
        ],
    );
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let first = moved[0];
    let to_fourth = |value: &str| {
        [
            (first.client, fourth.client),
            (first.local, fourth.local),
            (first.peer, fourth.peer),
            (first.metrics, fourth.metrics),
        ]
        .iter()
        .fold(value.to_string(), |v, (from, to)| {
            v.replace(&format!("127.0.0.1:{from}"), &format!("127.0.0.1:{to}"))
        })
    };
    let fourth_args: Vec<String> = (args[0].iter())
        .map(|arg| {
            let (flag, value) = arg.split_once('=').unwrap();
            let value = match flag {
                "--name" => "control-04".to_string(),
                "--initial-cluster" => format!("{value},control-04={peer_url}"),
                "--initial-cluster-state" => "existing".to_string(),
                "--cert-file" | "--peer-cert-file" => wrong.display().to_string(),
                "--key-file" | "--peer-key-file" => wrong_key.display().to_string(),
                "--data-dir" => work.path().join("control-04").display().to_string(),
                _ => to_fourth(value),
            };
            assert!(
                !value.contains(&format!(":{}", first.peer)) || flag == "--initial-cluster",
                "{flag}"
            );
            format!("{flag}={value}")
        })
        .collect();
    let mut intruder = Etcd::start(&fourth_args, work.path().join("control-04.log"));
    wait_for("the members to refuse control-04", 30, &[&intruder], || {
        (cluster.iter()).find_map(|m| {
            let log = m.log();
            log.lines()
                .find(|l| l.contains("rejected connection") && l.contains("127.0.0.99"))
                .map(str::to_string)
        })
    });
    // Give it the time a healthy member takes to join, then look again.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && !intruder.exited() {
        std::thread::sleep(Duration::from_millis(200));
    }
    let list = ctl(&endpoint(1), &["member", "list", "-w", "json"]);
    let fourth_member = members(&list)
        .into_iter()
        .find(|(name, _)| !NODES.iter().any(|(n, _)| n == name));
    assert_eq!(
        fourth_member,
        Some((String::new(), 0)),
        "control-04 stays unstarted; its log:\n{}",
        intruder.log()
    );
    let health = ctl(&all, &["endpoint", "health"]);
    assert!(
        health.status.success(),
        "{}",
        String::from_utf8_lossy(&health.stderr)
    );
}

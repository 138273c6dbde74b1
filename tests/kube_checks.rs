//! The Kubernetes labs' checks (labrun.kube.checks), run by `labrun up`
//! of labs/kube.lua and labs/kube-kubeadm.lua against moto and by `labrun
//! check`, on the stand-in nodes of tests/common/kube_standins.rs (real
//! sshd per node with its rendered /etc, behind a stand-in gateway whose
//! `iptables` and `sysctl` answer as the NAT unit leaves them) and the real
//! 3-member etcd of tests/common/etcd.rs (etcd 3.4 on loopback with the
//! same rendered certificates; the kubeadm lab's members with kubeadm's
//! flags as labs/kube.lua writes them, since kubeadm writes its own on the
//! node). What is real: etcd and etcdctl over mTLS with the lab's
//! etcd client certificate (the node's `podman` stand-in runs etcdctl as
//! the pinned image would, members' URLs moved to loopback); curl and
//! kubectl checking TLS with the lab's CA against `openssl s_server`s
//! serving the lab's API server certificates (no kube-apiserver binary runs
//! here); `labrun proxy` and kubectl on this machine with the user's
//! kubeconfig. The Lease objects are the kubectl stand-in's.

mod common;

use common::etcd::Cluster;
use common::kube_standins::{NODES, Standins};
use common::openssl::foreign_cert;
use common::{Labrun, Moto, text};
use std::process::{Output, Stdio};
use std::time::Duration;

const KUBE_CHECKS: [&str; 5] = [
    "etcd",
    "api-servers",
    "api-endpoint",
    "leases",
    "kubeconfig",
];

/// The kubectl stand-in's leases (tests/fixtures/standins/kubectl): (name,
/// holder, renewed how many seconds before kubectl is asked).
fn leases(held: &[(&str, &str, u64)]) -> String {
    (held.iter())
        .map(|(name, holder, ago)| {
            let holder = if holder.is_empty() { "-" } else { holder };
            format!("{name} {holder} {ago}\n")
        })
        .collect()
}

/// `labrun check LAB NAMES... --json`: the output and each check's result.
fn check(labrun: &Labrun, lab: &str, names: &[&str]) -> (Output, Vec<serde_json::Value>) {
    let out = labrun.run(&[&["check", lab, "--json"], names].concat());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("--json prints JSON ({e}): {}", text(&out)));
    (out, v.as_array().unwrap().clone())
}

/// The check named `name` in a `--json` result.
fn find<'a>(results: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    (results.iter())
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {results:?}"))
}

fn reason<'a>(results: &'a [serde_json::Value], name: &str) -> &'a str {
    find(results, name)["reason"]
        .as_str()
        .unwrap_or_else(|| panic!("{name} has no reason: {results:?}"))
}

/// The gateway's `iptables -t nat -S POSTROUTING` as its NAT unit leaves it.
const RULES: &str =
    "-P POSTROUTING ACCEPT\n-A POSTROUTING -s 10.10.16.0/24 ! -d 10.10.16.0/24 -j MASQUERADE";

/// A Kubernetes lab up in moto: its real etcd members, its stand-in nodes,
/// the Lease objects of a working control plane.
struct KubeLab {
    name: String,
    labrun: Labrun,
    etcd: Cluster,
    nodes: Standins,
    /// The leases of a working control plane (kubectl's answer).
    fresh: String,
    _moto: Moto,
}

/// Brings `script` up as a lab of this run's own name (the proxy's port
/// comes from it) on stand-in nodes from `127.A.B.base`, its etcd members
/// run with the flags of `manifests`' etcd manifests, and its checks run at
/// the end of `up`; returns the lab and what `up` printed.
fn kube_lab(script: &str, manifests: &str, base: u8) -> (KubeLab, Output) {
    let stem = script.trim_start_matches("labs/").trim_end_matches(".lua");
    let name = format!("{stem}-{}", std::process::id());
    let var = format!("name={name}");
    let lab = [script, "--var", &var];
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let etcd = Cluster::start_as(&labrun, &lab, &[manifests]);
    let nodes = Standins::start(&labrun, &name, etcd.rendered.path(), base, &[]);
    let record = nodes.record.path();
    let moved: String = (NODES.iter().enumerate())
        .map(|(i, (_, ip))| format!("https://{ip}:2379 {}\n", etcd.endpoint(i)))
        .collect();
    std::fs::write(record.join("etcd-endpoints"), moved).unwrap();
    let fresh = leases(&[
        ("kube-scheduler", "control-02_4d1c", 2),
        ("kube-controller-manager", "control-03_9a7e", 1),
    ]);
    std::fs::write(record.join("leases"), &fresh).unwrap();
    let gateway = nodes.node("gateway");
    gateway.command("iptables", &format!("printf '%s\\n' '{RULES}'"));
    gateway.command("sysctl", "echo 1");
    let out = (nodes.up_command(&labrun, &lab))
        .env_remove("LABRUN_NO_CHECKS")
        .output()
        .unwrap();
    let lab = KubeLab {
        name,
        labrun,
        etcd,
        nodes,
        fresh,
        _moto: moto,
    };
    (lab, out)
}

/// `up` ran the after-up steps, then the checks: every Kubernetes one and
/// the gateway's passed; the control nodes' way to the internet did not
/// (nothing leaves this machine: curl finds no such name), which `up`
/// says without failing.
fn assert_up_checked(lab: &KubeLab, out: &Output) {
    assert_eq!(out.status.code(), Some(0), "{}", text(out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for check in KUBE_CHECKS
        .iter()
        .chain(&["gateway-masquerade", "gateway-source-dest-check"])
    {
        assert!(
            stdout.contains(&format!("✓ {check} (")),
            "{check}: {stdout}"
        );
    }
    for (node, _) in NODES {
        assert!(
            stdout.contains(&format!(
                "✗ {node}-internet (",
            )) && stdout.contains(&format!(
                "{node} cannot fetch https://fedoraproject.org (curl exit 6): curl: (6) Could not resolve host: fedoraproject.org"
            )),
            "{node}: {stdout}"
        );
    }
    assert!(
        stdout.contains(&format!("✗ 3 of 10 checks failed: lab {} is up", lab.name)),
        "{stdout}"
    );
    let calls = lab.nodes.calls();
    let podman = (calls.iter())
        .find(|c| c.starts_with("control-01 podman run "))
        .unwrap_or_else(|| panic!("{calls:#?}"));
    assert!(
        podman.contains(" registry.k8s.io/etcd:")
            && podman.contains("-v /etc/kubernetes/pki:/etc/kubernetes/pki:ro")
            && podman.contains(
                "--endpoints=https://10.10.16.11:2379,https://10.10.16.12:2379,https://10.10.16.13:2379"
            )
            && podman.contains("--cert=/etc/kubernetes/pki/apiserver-etcd-client.crt"),
        "{podman}"
    );
    for (node, ip) in NODES {
        let curl = format!(
            "control-01 curl -sS --max-time 10 --cacert /etc/kubernetes/pki/ca.crt https://{ip}:6443/readyz"
        );
        assert!(calls.contains(&curl), "{node}: {calls:#?}");
    }
}

#[test]
fn the_kubeadm_labs_checks_pass_with_the_certificates_it_gives_its_nodes() {
    let (lab, out) = kube_lab("labs/kube-kubeadm.lua", "labs/kube.lua", 80);
    assert_up_checked(&lab, &out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("✓ step kubeadm-init"), "{err}");

    // etcd is down: the check says so with etcdctl's words, and what
    // needs etcd is not run.
    let KubeLab {
        labrun, etcd, name, ..
    } = lab;
    drop(etcd);
    let (out, results) = check(&labrun, &name, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let why = reason(&results, "etcd");
    assert_eq!(why.matches(" is unhealthy: ").count(), 3, "{why}");
    for check in ["api-servers", "api-endpoint", "leases", "kubeconfig"] {
        assert_eq!(find(&results, check)["status"], "skipped", "{check}");
    }
}

#[test]
fn the_kube_labs_checks_prove_etcd_the_api_servers_the_leases_and_the_users_kubeconfig() {
    let (lab, out) = kube_lab("labs/kube.lua", "labs/kube.lua", 40);
    assert_up_checked(&lab, &out);
    let KubeLab {
        name,
        labrun,
        mut etcd,
        mut nodes,
        fresh,
        ..
    } = lab;
    let record = nodes.record.path();

    // The scheduler lost its leader and the controller-manager stopped renewing.
    std::fs::write(
        record.join("leases"),
        leases(&[
            ("kube-scheduler", "", 300),
            ("kube-controller-manager", "control-03_9a7e", 60),
        ]),
    )
    .unwrap();
    let (out, results) = check(&labrun, &name, &["leases"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let why = reason(&results, "leases");
    let ago: u64 = (why.rsplit_once(", "))
        .and_then(|(_, ago)| ago.strip_suffix(" s ago")?.parse().ok())
        .unwrap_or_else(|| panic!("{why}"));
    assert!(
        why.starts_with("kube-scheduler holds no lease; kube-controller-manager's lease (held by control-03_9a7e) was last renewed ")
            && (60..70).contains(&ago),
        "{why}"
    );
    std::fs::write(record.join("leases"), &fresh).unwrap();

    // The user's own `labrun proxy` already serves the lab: kubectl goes through it.
    let mut proxy = labrun
        .command(&["proxy", &name])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let port = labrun::ssh::socks::default_port(&name);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "the proxy serves");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (out, results) = check(&labrun, &name, &["kubeconfig"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(find(&results, "kubeconfig")["status"], "passed");
    let _ = proxy.kill();
    let _ = proxy.wait();

    // control-03's API server is down: curl's own words, the others are fine.
    drop(nodes.servers.remove(3));
    let (out, results) = check(&labrun, &name, &["api-servers", "api-endpoint"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let why = reason(&results, "api-servers");
    assert!(
        why.starts_with("not ready: control-03: curl: (7) Failed to connect to"),
        "{why}"
    );
    assert_eq!(find(&results, "api-endpoint")["status"], "passed");

    // The endpoint is down: from the nodes and from this machine, kubectl's own words.
    drop(nodes.servers.remove(0));
    let (_, results) = check(&labrun, &name, &["api-endpoint", "kubeconfig"]);
    assert!(
        reason(&results, "api-endpoint").starts_with("https://api.kubelius:6443/readyz: "),
        "{results:?}"
    );
    assert_eq!(find(&results, "kubeconfig")["status"], "skipped");

    // One member is gone: etcdctl says which, and what needs etcd is not run.
    drop(etcd.members.pop());
    let (out, results) = check(&labrun, &name, &["etcd", "api-servers"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let why = reason(&results, "etcd");
    assert!(
        why.starts_with(&format!("{} is unhealthy: ", etcd.endpoint(2)))
            && !why.contains(&etcd.endpoint(0))
            && !why.contains(&etcd.endpoint(1)),
        "{why}"
    );
    assert_eq!(find(&results, "api-servers")["status"], "skipped");

    // A client certificate of another CA (even one called etcd-ca) is
    // refused by every member: the check is over mTLS.
    let work = tempfile::tempdir().unwrap();
    let (_, cert, key) = foreign_cert(
        work.path(),
        "etcd-ca",
        "kube-apiserver-etcd-client",
        "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n",
    );
    let pki = nodes.node("control-01").etc.join("kubernetes/pki");
    std::fs::copy(&cert, pki.join("apiserver-etcd-client.crt")).unwrap();
    std::fs::copy(&key, pki.join("apiserver-etcd-client.key")).unwrap();
    let (_, results) = check(&labrun, &name, &["etcd"]);
    let why = reason(&results, "etcd");
    assert!(
        why.contains(&format!("{} is unhealthy: ", etcd.endpoint(0)))
            && why.contains(&format!("{} is unhealthy: ", etcd.endpoint(1))),
        "{why}"
    );
}

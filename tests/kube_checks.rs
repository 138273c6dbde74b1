//! The Kubernetes labs' checks (labrun.kube.checks, `labrun check`), as
//! tests/fixtures/labs/kube/checks.lua declares them: the gateway and the
//! first control node stood in for by real sshd on loopback, holding the
//! files labs/kube.lua renders for them (labs/kube.lua itself is not
//! brought up in moto: its after-up steps would reach for made-up
//! addresses):
//! - etcd: the real 3-member etcd of tests/common/etcd.rs (etcd 3.4 on
//!   loopback with the lab's certificates); the node's `podman` stand-in
//!   runs the real etcdctl with the command line the check gives the
//!   pinned etcd image, the node's paths and addresses moved to the
//!   rendered folder and loopback.
//! - /readyz: the node's real curl (its addresses moved to loopback with
//!   --connect-to) against tests/support/readyz.py serving each node's own
//!   API server certificate, since no kube-apiserver binary runs here.
//! - leases: a `kubectl` stand-in printing Lease objects as the API
//!   server would, for the same reason.

mod common;

use common::etcd::{Cluster, NODES};
use common::openssl::foreign_cert;
use common::{Labrun, repo, text};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, SystemTime};

/// A stand-in API server's /readyz, killed on drop.
struct Readyz {
    child: Child,
    port: u16,
}

impl Readyz {
    /// Serves /readyz with the API server certificate of the node rendered at `root`.
    fn start(root: &Path) -> Readyz {
        let port = common::sshd::free_port("127.0.0.1");
        let pki = root.join("etc/kubernetes/pki");
        let mut child = Command::new("python3")
            .arg(repo().join("tests/support/readyz.py"))
            .arg(port.to_string())
            .arg(pki.join("apiserver.crt"))
            .arg(pki.join("apiserver.key"))
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "listening");
        Readyz { child, port }
    }
}

impl Drop for Readyz {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A shell loop that rewrites every argument with `sed` expressions, so a
/// stand-in passes on the node's command line moved to this machine.
fn moving(seds: &[(String, String)]) -> String {
    let exprs: String = (seds.iter())
        .map(|(from, to)| format!(" -e 's|{from}|{to}|g'"))
        .collect();
    format!(
        "n=$#\nwhile [ $n -gt 0 ]; do a=$(printf '%s' \"$1\" | sed{exprs}); shift; set -- \"$@\" \"$a\"; n=$((n-1)); done\n"
    )
}

/// Lease objects as `kubectl get lease -o json` prints them: (name,
/// holder, renewed seconds ago).
fn leases(held: &[(&str, &str, u64)]) -> String {
    let items: Vec<serde_json::Value> = (held.iter())
        .map(|(name, holder, ago)| {
            let renewed = SystemTime::now() - Duration::from_secs(*ago);
            serde_json::json!({
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": { "name": name, "namespace": "kube-system" },
                "spec": {
                    "holderIdentity": holder,
                    "leaseDurationSeconds": 15,
                    "renewTime": humantime::format_rfc3339_micros(renewed).to_string(),
                },
            })
        })
        .collect();
    serde_json::json!({ "apiVersion": "v1", "kind": "List", "items": items }).to_string()
}

fn check(labrun: &Labrun, names: &[&str]) -> (Output, Vec<serde_json::Value>) {
    let mut args = vec!["check", "kube-checks", "--json"];
    args.extend(names);
    let out = labrun.run(&args);
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

#[test]
fn the_kube_labs_checks_ask_the_real_etcd_and_the_nodes_certificates() {
    let labrun = Labrun::offline();
    let out = labrun.run(&["up", "tests/fixtures/labs/kube/checks.lua", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let mut etcd = Cluster::start(&labrun, "labs/kube.lua");
    let root = etcd.node_root("control-01");
    let pki = root.join("etc/kubernetes/pki");

    let _gateway = labrun.stand_in(
        "kube-checks",
        "gateway",
        "127.0.18.21",
        "AllowTcpForwarding yes",
    );
    let node = labrun.stand_in("kube-checks", "control-01", "127.0.18.22", "");
    // sudo as on the node, but keeping the stand-ins first on PATH.
    node.command(
        "sudo",
        "if [ \"$1\" = env ]; then shift; case \"$1\" in PATH=*) shift;; esac; fi\nexec \"$@\"",
    );
    let mut to_loopback: Vec<(String, String)> =
        vec![("/etc/kubernetes/pki".into(), pki.display().to_string())];
    for (i, (_, ip)) in NODES.iter().enumerate() {
        to_loopback.push((format!("https://{ip}:2379"), etcd.endpoint(i)));
    }
    node.command(
        "podman",
        &format!(
            "while [ \"$1\" != etcdctl ]; do shift; done; shift\n{}ETCDCTL_API=3 exec etcdctl \"$@\"",
            moving(&to_loopback)
        ),
    );
    let mut servers: Vec<Readyz> = (NODES.iter())
        .map(|(n, _)| Readyz::start(&etcd.node_root(n)))
        .collect();
    let mut connect_to: Vec<String> = (NODES.iter().zip(&servers))
        .map(|((_, ip), s)| format!("--connect-to {ip}:6443:127.0.0.1:{}", s.port))
        .collect();
    connect_to.push(format!(
        "--connect-to api.kubelius:6443:127.0.0.1:{}",
        servers[0].port
    ));
    node.command(
        "curl",
        &format!(
            "{}exec /usr/bin/curl {} \"$@\"",
            moving(&to_loopback[..1]),
            connect_to.join(" ")
        ),
    );
    node.command(
        "kubectl",
        &format!(
            "echo '{}'",
            leases(&[
                ("kube-scheduler", "control-02_4d1c", 2),
                ("kube-controller-manager", "control-03_9a7e", 1)
            ])
        ),
    );

    // A working control plane: every check of it passes.
    let names = ["etcd", "api-servers", "api-endpoint", "leases"];
    let (out, results) = check(&labrun, &names);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for name in names {
        assert_eq!(find(&results, name)["status"], "passed", "{results:?}");
    }
    let podman = (node.calls().into_iter())
        .find(|c| c.starts_with("podman "))
        .unwrap();
    assert!(
        podman.contains(" registry.k8s.io/etcd:")
            && podman.contains("-v /etc/kubernetes/pki:/etc/kubernetes/pki:ro")
            && podman.contains(
                "--endpoints=https://10.10.16.11:2379,https://10.10.16.12:2379,https://10.10.16.13:2379"
            )
            && podman.contains("--cert=/etc/kubernetes/pki/apiserver-etcd-client.crt"),
        "{podman}"
    );

    // The scheduler lost its leader and the controller-manager stopped renewing.
    node.command(
        "kubectl",
        &format!(
            "echo '{}'",
            leases(&[
                ("kube-scheduler", "", 300),
                ("kube-controller-manager", "control-03_9a7e", 60)
            ])
        ),
    );
    let (_, results) = check(&labrun, &["leases"]);
    let reason = find(&results, "leases")["reason"]
        .as_str()
        .unwrap()
        .to_string();
    let ago: u64 = (reason.rsplit_once(", "))
        .and_then(|(_, ago)| ago.strip_suffix(" s ago")?.parse().ok())
        .unwrap_or_else(|| panic!("{reason}"));
    assert!(
        reason.starts_with("kube-scheduler holds no lease; kube-controller-manager's lease (held by control-03_9a7e) was last renewed ")
            && (60..70).contains(&ago),
        "{reason}"
    );

    // control-03's API server is down: curl's own words, the others are fine.
    drop(servers.remove(2));
    let (out, results) = check(&labrun, &["api-servers", "api-endpoint"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let reason = find(&results, "api-servers")["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("not ready: control-03: curl: (7) Failed to connect to"),
        "{reason}"
    );
    assert_eq!(find(&results, "api-endpoint")["status"], "passed");

    // One member is gone: etcdctl says which, and what is after etcd is not run.
    drop(etcd.members.pop());
    let (out, results) = check(&labrun, &["etcd", "api-servers"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let reason = find(&results, "etcd")["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(&format!("{} is unhealthy: ", etcd.endpoint(2)))
            && !reason.contains(&etcd.endpoint(0))
            && !reason.contains(&etcd.endpoint(1)),
        "{reason}"
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
    std::fs::copy(&cert, pki.join("apiserver-etcd-client.crt")).unwrap();
    std::fs::copy(&key, pki.join("apiserver-etcd-client.key")).unwrap();
    let (_, results) = check(&labrun, &["etcd"]);
    let reason = find(&results, "etcd")["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("{} is unhealthy: ", etcd.endpoint(0)))
            && reason.contains(&format!("{} is unhealthy: ", etcd.endpoint(1))),
        "{reason}"
    );
}

//! Three real etcd members (Debian's etcd-server) on loopback, each run with
//! the command of the static pod manifest labs/kube.lua renders for it and
//! the certificates it made (tests/common/etcd.rs): they form a cluster
//! that checks its clients' and its peers' certificates.

mod common;

use common::Labrun;
use common::etcd::{Cluster, Etcd, etcdctl, members, wait_for};
use common::kube_standins::NODES;
use common::openssl::{foreign_cert, signed_by};
use std::time::{Duration, Instant};

#[test]
fn etcd_members_run_from_labruns_manifests_form_a_cluster_that_checks_certificates() {
    let labrun = Labrun::offline();
    let etcd = Cluster::start(&labrun, &["labs/kube.lua"]);
    let (work, moved, args, cluster) = (etcd.work.path(), &etcd.moved, &etcd.args, &etcd.members);
    let pki = etcd.pki();
    let etcd_ca = pki.join("etcd/ca.crt");
    let endpoint = |i: usize| etcd.endpoint(i);
    let all = etcd.all();
    let ctl = |endpoints: &str, args: &[&str]| etcd.ctl(endpoints, args);
    let logs = etcd.logs();

    // The API server of each node talks to the three members' client URLs.
    for (node, _) in NODES {
        let text = std::fs::read_to_string(
            etcd.node_root(node)
                .join("etc/kubernetes/manifests/kube-apiserver.yaml"),
        )
        .unwrap();
        assert!(
            text.contains(
                "--etcd-servers=https://10.10.16.11:2379,https://10.10.16.12:2379,https://10.10.16.13:2379"
            ),
            "{node}"
        );
    }

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
        work,
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
        work,
        &etcd_ca,
        &pki.join("etcd/ca.key"),
        "control-04",
        "subjectAltName=IP:127.0.0.99\nextendedKeyUsage=serverAuth,clientAuth\n\
         keyUsage=critical,digitalSignature,keyEncipherment\n",
    );
    let fourth = etcd.spare;
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
                "--data-dir" => work.join("control-04").display().to_string(),
                _ => to_fourth(value),
            };
            assert!(
                !value.contains(&format!(":{}", first.peer)) || flag == "--initial-cluster",
                "{flag}"
            );
            format!("{flag}={value}")
        })
        .collect();
    let mut intruder = Etcd::start(&fourth_args, work.join("control-04.log"));
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

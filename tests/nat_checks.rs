//! The NAT lab's checks (`labrun check nat`, and at the end of `up`)
//! against the lab brought up in a real moto_server, its three nodes stood
//! in for by real sshd on loopback (tests/common/standin_nodes.rs, the
//! gateway the jump host of the two others, as on AWS), whose `curl`,
//! `iptables` and `sysctl` are stand-ins: the nodes' real ones would reach
//! the internet or read this machine's tables.

mod common;

use common::standin_nodes::{StandinNode, loopback, node_hosts};
use common::{Labrun, Moto, text};
use std::process::Output;

/// The gateway's `iptables -t nat -S POSTROUTING` as the NAT unit leaves it.
const RULES: &str =
    "-P POSTROUTING ACCEPT\n-A POSTROUTING -s 10.10.16.0/24 ! -d 10.10.16.0/24 -j MASQUERADE";

struct Lab {
    moto: Moto,
    labrun: Labrun,
    record: tempfile::TempDir,
    /// The gateway, instance-01, instance-02.
    nodes: Vec<StandinNode>,
}

impl Lab {
    fn gateway(&self) -> &StandinNode {
        &self.nodes[0]
    }

    /// What the stand-ins on `node` were asked, one call a line.
    fn calls(&self, node: &str) -> Vec<String> {
        let prefix = format!("{node} ");
        (common::standin_nodes::calls(self.record.path()).iter())
            .filter_map(|c| c.strip_prefix(&prefix).map(String::from))
            .collect()
    }
}

/// The NAT lab up in moto, its nodes stood in for on loopback (reached by
/// `LABRUN_NODE_HOSTS`), every stand-in command answering as on a working
/// lab; `up` ran the checks.
fn nat_lab() -> (Lab, Output) {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let out = labrun.run(&["plan", "labs/nat.lua"]);
    assert!(out.status.success(), "{}", text(&out));
    let record = tempfile::tempdir().unwrap();
    let nodes: Vec<StandinNode> = (["gateway", "instance-01", "instance-02"].iter())
        .enumerate()
        .map(|(i, name)| {
            StandinNode::plain(&labrun, "nat", name, &loopback(50 + i as u8), record.path())
        })
        .collect();
    let gateway = &nodes[0];
    gateway.command("iptables", &format!("printf '%s\\n' '{RULES}'"));
    gateway.command("sysctl", "echo 1");
    for node in &nodes[1..] {
        node.command("curl", "printf 200");
    }
    let lab = Lab {
        moto,
        labrun,
        record,
        nodes,
    };
    let out = up(&lab);
    (lab, out)
}

/// `labrun up labs/nat.lua` with its checks, the nodes at their stand-ins.
fn up(lab: &Lab) -> Output {
    let mut cmd = lab.labrun.command(&["up", "labs/nat.lua", "--yes"]);
    cmd.env(labrun::session::node_hosts::VAR, node_hosts(&lab.nodes))
        .env_remove("LABRUN_NO_CHECKS");
    cmd.output().unwrap()
}

fn check(lab: &Lab, args: &[&str]) -> Output {
    let mut all = vec!["check", "nat"];
    all.extend(args);
    lab.labrun.run(&all)
}

/// The `--json` result: (name, status, reason) per check, and the durations.
fn results(out: &Output) -> Vec<(String, String, Option<String>, Option<f64>)> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("--json prints JSON ({e}): {}", text(out)));
    (v.as_array().expect("a list").iter())
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                c["reason"].as_str().map(String::from),
                c["duration"].as_f64(),
            )
        })
        .collect()
}

#[test]
fn the_nat_labs_checks_pass_on_working_nodes_and_fail_with_the_nodes_own_words() {
    let (lab, up_out) = nat_lab();
    assert_eq!(up_out.status.code(), Some(0), "{}", text(&up_out));
    let up_stdout = String::from_utf8_lossy(&up_out.stdout);
    assert!(
        up_stdout.contains("Checks:") && !up_stdout.contains('✗'),
        "up ran the checks, all passed: {up_stdout}"
    );

    // Again on demand: every check passes, exit 0.
    let out = check(&lab, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for name in [
        "gateway-masquerade",
        "gateway-source-dest-check",
        "instance-01-internet",
        "instance-02-internet",
    ] {
        assert!(stdout.contains(&format!("✓ {name} (")), "{name}: {stdout}");
    }
    // The nodes were asked what the checks say they ask.
    let gateway_calls = lab.calls("gateway");
    assert!(
        gateway_calls.contains(&"iptables -t nat -S POSTROUTING".to_string())
            && gateway_calls.contains(&"sysctl -n net.ipv4.ip_forward".to_string()),
        "{gateway_calls:?}"
    );
    for node in ["instance-01", "instance-02"] {
        let calls = lab.calls(node);
        assert!(
            calls.iter().any(|c| c.starts_with("curl ")
                && c.contains("https://fedoraproject.org")
                && c.contains("%{http_code}")),
            "{calls:?}"
        );
    }

    // instance-02 cannot resolve names: its check fails with curl's own
    // words (not what the node's shell said first), the others still pass,
    // and `labrun check` exits 1.
    lab.nodes[2].command(
        "curl",
        "echo 'bash: warning: setlocale: LC_ALL: cannot change locale (en_US.UTF-8)' >&2\n\
         echo 'curl: (6) Could not resolve host: fedoraproject.org' >&2; exit 6",
    );
    let out = check(&lab, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("✗ instance-02-internet (")
            && stdout.contains(
                "instance-02 cannot fetch https://fedoraproject.org (curl exit 6): curl: (6) Could not resolve host: fedoraproject.org"
            ),
        "{stdout}"
    );
    assert!(stdout.contains("✓ instance-01-internet ("), "{stdout}");
    assert!(stdout.contains("✗ 1 of 4 checks failed"), "{stdout}");

    // up says so too, but the apply did not fail: nothing to change in AWS.
    let out = up(&lab);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Lab nat is up to date."), "{stdout}");
    assert!(
        stdout.contains("✗ instance-02-internet (") && stdout.contains("✓ instance-01-internet ("),
        "{stdout}"
    );
    assert!(
        stdout.contains("✗ 1 of 4 checks failed: lab nat is up, its resources are fine, but it does not work as it should; `labrun check nat` runs them again."),
        "{stdout}"
    );

    // --json: name, status, reason and duration of each.
    let out = check(&lab, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let got = results(&out);
    let statuses: Vec<(&str, &str)> = (got.iter())
        .map(|(n, s, _, _)| (n.as_str(), s.as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("gateway-masquerade", "passed"),
            ("gateway-source-dest-check", "passed"),
            ("instance-01-internet", "passed"),
            ("instance-02-internet", "failed"),
        ]
    );
    assert!(got[..3].iter().all(|(_, _, reason, _)| reason.is_none()));
    assert!(
        (got[3].2.as_deref())
            .is_some_and(|r| r.ends_with("Could not resolve host: fedoraproject.org")),
        "{got:?}"
    );
    assert!(
        got.iter().all(|(_, _, _, d)| d.is_some_and(|d| d >= 0.0)),
        "{got:?}"
    );

    // Asking for one check runs it and what it needs first, nothing else.
    let out = check(&lab, &["instance-01-internet", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let names: Vec<String> = results(&out).into_iter().map(|(n, ..)| n).collect();
    assert_eq!(
        names,
        [
            "gateway-masquerade",
            "gateway-source-dest-check",
            "instance-01-internet"
        ]
    );
    let out = check(&lab, &["instance-03-internet"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "lab nat declares no check named instance-03-internet (its checks: gateway-masquerade, gateway-source-dest-check, instance-01-internet, instance-02-internet)"
        ),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_that_does_not_masquerade_or_is_checked_by_aws_fails_its_checks() {
    let (lab, out) = nat_lab();
    assert!(out.status.success(), "{}", text(&out));

    // The MASQUERADE unit did not run: the gateway check says what is
    // missing and what is there; the instances' checks are not run.
    lab.gateway()
        .command("iptables", "echo '-P POSTROUTING ACCEPT'");
    let asked = |lab: &Lab| {
        [
            lab.calls("instance-01").len(),
            lab.calls("instance-02").len(),
        ]
    };
    let before = asked(&lab);
    let out = check(&lab, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let got = results(&out);
    assert_eq!(got[0].1, "failed", "{got:?}");
    assert_eq!(
        got[0].2.as_deref(),
        Some(
            "no MASQUERADE rule for 10.10.16.0/24 in gateway's nat table (it has: -P POSTROUTING ACCEPT)"
        )
    );
    for (name, status, reason, _) in &got[2..] {
        assert_eq!(status, "skipped", "{name}");
        assert_eq!(
            reason.as_deref(),
            Some("not run, gateway-masquerade failed")
        );
    }
    assert_eq!(asked(&lab), before, "the instances were not asked anything");

    // The rule is back but forwarding is off.
    lab.gateway()
        .command("iptables", &format!("printf '%s\\n' '{RULES}'"));
    lab.gateway().command("sysctl", "echo 0");
    let got = results(&check(&lab, &["gateway-masquerade", "--json"]));
    assert_eq!(
        got[0].2.as_deref(),
        Some("gateway does not forward IPv4 (net.ipv4.ip_forward = 0)")
    );
    lab.gateway().command("sysctl", "echo 1");

    // Someone turned the source/destination check back on in AWS.
    let ec2 = lab.moto.ec2().await;
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(lab.labrun.lab_dir("nat").join("state.json")).unwrap(),
    )
    .unwrap();
    let eni = state["resources"]["network_interface.gateway"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    ec2.modify_network_interface_attribute()
        .network_interface_id(&eni)
        .source_dest_check(
            aws_sdk_ec2::types::AttributeBooleanValue::builder()
                .value(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let out = check(&lab, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("✗ gateway-source-dest-check (") && stdout.contains(&format!(
            "the source/destination check of {eni} (gateway) is on: AWS drops what the gateway forwards"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("✓ gateway-masquerade ("), "{stdout}");
}

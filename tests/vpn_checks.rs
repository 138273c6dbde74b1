//! The VPN lab's WireGuard check (`labrun check vpn gateway-wireguard`)
//! against a real wireguard-go interface set up from the gateway's own
//! wg0.conf (as the lab wrote it into the gateway's Ignition in moto), in a
//! network namespace of this test. The gateway is a real sshd on loopback
//! (tests/common/standin_nodes.rs) whose `wg` is the real one, run in that
//! namespace on that interface (named uniquely there, wg0 on the gateway).
//! Needs root; where namespaces cannot be made the test says so and skips.

mod common;

use common::netns::{Netns, WireguardGo};
use common::standin_nodes::{StandinNode, calls, loopback, node_hosts};
use common::wireguard::{value, vpn_lab, wg_genkey, wg_pubkey};
use common::{Labrun, Moto, text};
use labrun::session::node_hosts::VAR;
use std::process::Output;

/// The real `wg` on PATH (the stand-in of the same name must not find itself).
fn real_wg() -> String {
    let out = std::process::Command::new("sh")
        .args(["-c", "command -v wg"])
        .output()
        .unwrap();
    let path = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(
        !path.is_empty(),
        "wg (Debian wireguard-tools, installed by .ci/setup)"
    );
    path
}

fn wireguard_check(labrun: &Labrun) -> (Output, serde_json::Value) {
    let out = labrun.run(&["check", "vpn", "gateway-wireguard", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("--json prints JSON ({e}): {}", text(&out)));
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    (out, v[0].clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_wireguard_check_finds_the_labs_server_and_peers_on_the_gateway() {
    let ns = match Netns::create() {
        Ok(ns) => ns,
        Err(e) => {
            println!("SKIPPED: cannot create network namespaces here ({e}); run as root");
            return;
        }
    };
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let lab_args = ["labs/vpn.lua", "--yes", "--var", "clients=laptop,phone"];
    let out = labrun.run(&[&["plan"], &lab_args[..1]].concat());
    assert!(out.status.success(), "{}", text(&out));
    let record = tempfile::tempdir().unwrap();
    let gateway = StandinNode::plain(&labrun, "vpn", "gateway", &loopback(70), record.path());
    let out = labrun
        .command(&[&["up"], &lab_args[..]].concat())
        .env(VAR, node_hosts(std::slice::from_ref(&gateway)))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let lab = vpn_lab(&moto, &labrun, "vpn").await;
    let interface = WireguardGo::start(&ns);
    interface.setconf(&lab.server.1);
    gateway.command(
        "wg",
        &format!(
            "n=$#\nwhile [ $n -gt 0 ]; do a=$1; shift; [ \"$a\" = wg0 ] && a={iface}; set -- \"$@\" \"$a\"; n=$((n-1)); done\n\
             exec ip netns exec {ns} {wg} \"$@\"",
            iface = interface.iface,
            ns = ns.name,
            wg = real_wg()
        ),
    );

    // The interface as the lab's config makes it: the check passes (the
    // lab, named, is declared with the --var clients it was brought up with).
    let (out, check) = wireguard_check(&labrun);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(check["status"], "passed", "{check}");
    let asked = calls(record.path());
    assert!(
        asked.contains(&"gateway wg show wg0 allowed-ips".to_string()),
        "{asked:?}"
    );

    // The phone's peer is gone, a stranger is there.
    let phone = &lab.clients.iter().find(|(n, _)| n == "phone").unwrap().1;
    let phone_key = wg_pubkey(&value(phone, "Interface", "PrivateKey"));
    let stranger = wg_pubkey(&wg_genkey());
    interface.wg(&["set", &interface.iface, "peer", &phone_key, "remove"]);
    interface.wg(&[
        "set",
        &interface.iface,
        "peer",
        &stranger,
        "allowed-ips",
        "10.200.0.99/32",
    ]);
    let (out, check) = wireguard_check(&labrun);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(check["status"], "failed");
    assert_eq!(
        check["reason"],
        format!(
            "wg0 on gateway: client phone is not a peer; peers the lab does not know: {stranger}"
        )
    );

    // The interface is down: the reason is wg's own.
    drop(interface);
    let (out, check) = wireguard_check(&labrun);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let reason = check["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("wg show wg0 on gateway failed (exit 1): Unable to access interface"),
        "{reason}"
    );
}

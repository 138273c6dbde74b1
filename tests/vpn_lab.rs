//! The VPN lab (labs/vpn.lua) against a real moto_server: the gateway's
//! security group opens the WireGuard port, its Ignition writes exactly the
//! server config made from the lab's keys, the client configs land in the
//! lab folder (0600) and pair up with it as `wg pubkey` derives the keys,
//! keys survive a second up and a down/up (only the endpoint moves), and
//! `labrun wg` prints, draws and writes a client's config.

mod common;

use common::wireguard::{VpnLab, assert_pair_up, terminal_as_png, value, vpn_lab, zbar_decode};
use common::{Labrun, Moto, tagged, text};
use labrun::wireguard::{PresharedKey, PrivateKey, ServerConfig, ServerPeer};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const LAB: &str = "labs/vpn.lua";
const CLIENTS: &str = "clients=laptop,phone";

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Runs labrun and checks it succeeded.
fn run_ok(labrun: &Labrun, args: &[&str]) -> std::process::Output {
    let out = labrun.run(args);
    assert!(out.status.success(), "{args:?}: {}", text(&out));
    out
}

/// Runs labrun and checks it refused bad input (exit 2) saying `says`.
fn refused(labrun: &Labrun, args: &[&str], says: &str) {
    let out = labrun.run(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(says),
        "{args:?} should say {says:?}: {}",
        text(&out)
    );
}

/// Takes the lab down and checks that nothing tagged with it is left.
async fn down_leaves_nothing(moto: &Moto, labrun: &Labrun) {
    run_ok(labrun, &["down", "vpn", "--yes"]);
    assert_eq!(tagged(moto, "vpn").await, Vec::<String>::new());
}

/// The lab's secrets file.
fn secrets(labrun: &Labrun) -> serde_json::Value {
    let bytes = std::fs::read(labrun.lab_dir("vpn").join("secrets.json")).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The server config rendered here from the keys and addresses the lab keeps
/// in its secrets (entry `wireguard`), for `clients` in that order.
fn server_config_from_secrets(labrun: &Labrun, clients: &[&str]) -> String {
    let wg = &secrets(labrun)["wireguard"];
    let key = |name: &str| PrivateKey::from_base64(wg["keys"][name].as_str().unwrap()).unwrap();
    ServerConfig {
        address: "10.200.0.1/24".parse().unwrap(),
        listen_port: 51820,
        private_key: key("server"),
        peers: (clients.iter())
            .map(|name| ServerPeer {
                name: name.to_string(),
                public_key: key(&format!("client.{name}")).public_key(),
                preshared_key: PresharedKey::from_base64(wg["preshared"][name].as_str().unwrap())
                    .unwrap(),
                address: wg["addresses"][name].as_str().unwrap().parse().unwrap(),
            })
            .collect(),
    }
    .render()
    .unwrap()
}

/// The security group rules of the gateway as "protocol port cidr".
async fn gateway_rules(moto: &Moto) -> Vec<String> {
    let ec2 = moto.ec2().await;
    let filter = aws_sdk_ec2::types::Filter::builder()
        .name("tag:labrun:resource")
        .values("security_group.gateway")
        .build();
    let groups = ec2
        .describe_security_groups()
        .filters(filter)
        .send()
        .await
        .unwrap();
    let [group] = groups.security_groups() else {
        panic!("one gateway group: {groups:?}")
    };
    let mut rules: Vec<String> = (group.ip_permissions().iter())
        .flat_map(|p| {
            p.ip_ranges().iter().map(move |r| {
                let port = p.from_port().map_or("-".into(), |p| p.to_string());
                format!(
                    "{} {port} {}",
                    p.ip_protocol().unwrap(),
                    r.cidr_ip().unwrap()
                )
            })
        })
        .collect();
    rules.sort();
    rules
}

/// A config without its Endpoint line: what must stay across down and up.
fn without_endpoint(config: &str) -> String {
    (config.lines())
        .filter(|l| !l.starts_with("Endpoint = "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Checks what the VPN lab with `clients` handed out: the server config in
/// the gateway's Ignition, the client files, their endpoint and keys.
fn check_handed_out(labrun: &Labrun, lab: &VpnLab, clients: &[&str]) {
    labrun::ignition::validate(&lab.ignition.to_string()).expect("valid Ignition");
    assert!(
        common::ignition::enables(&lab.ignition, "wg-quick@wg0.service"),
        "{}",
        lab.ignition
    );
    let (server_mode, server) = &lab.server;
    assert_eq!(
        *server_mode, 0o600,
        "wg0.conf holds the server's private key"
    );
    assert_eq!(server, &server_config_from_secrets(labrun, clients));
    let names: Vec<&str> = lab.clients.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, clients);
    assert_pair_up(server, &lab.clients);
    for (name, config) in &lab.clients {
        let path = labrun
            .lab_dir("vpn")
            .join(format!("files/wireguard/{name}.conf"));
        assert_eq!(mode(&path), 0o600, "{name}'s config holds its private key");
        assert_eq!(
            value(config, "Peer", "Endpoint"),
            format!("{}:51820", lab.public_ip)
        );
        assert_eq!(
            value(config, "Peer", "AllowedIPs"),
            "10.10.16.0/20, 10.200.0.0/24",
            "the VPC and the tunnel, not the client's whole internet"
        );
        assert_eq!(value(config, "Peer", "PersistentKeepalive"), "25");
    }
}

#[test]
fn plan_prices_the_vpn_lab_and_a_look_with_renew_keys_saves_nothing() {
    let labrun = Labrun::offline();
    let out = run_ok(&labrun, &["plan", LAB]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("$0.0156"), "{stdout}");
    let json = run_ok(&labrun, &["plan", LAB, "--json"]);
    let plan: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    // Two t4g.nano with 10 GB gp3 each and one Elastic IP.
    let expected = 2.0 * (0.0042 + 10.0 * 0.08 / 730.0) + 0.005;
    // Money in JSON is rounded to 4 decimals.
    assert!(
        (plan["hourly"].as_f64().unwrap() - expected).abs() < 5e-5,
        "{plan}"
    );

    let before = secrets(&labrun);
    assert!(
        before["wireguard"]["keys"]["server"].is_string(),
        "{before}"
    );
    let rendered = tempfile::tempdir().unwrap();
    for args in [
        vec!["plan", LAB, "--renew-keys"],
        vec![
            "render",
            LAB,
            rendered.path().to_str().unwrap(),
            "--renew-keys",
        ],
    ] {
        run_ok(&labrun, &args);
        assert_eq!(secrets(&labrun), before, "{args:?} saved new keys");
    }
    let shown = std::fs::read_to_string(rendered.path().join("wireguard/laptop.conf")).unwrap();
    assert_ne!(
        value(&shown, "Interface", "PrivateKey"),
        before["wireguard"]["keys"]["client.laptop"]
            .as_str()
            .unwrap(),
        "render --renew-keys shows what new keys would be"
    );
}

#[test]
fn bad_vpn_variables_name_the_script_line_and_exit_2() {
    let labrun = Labrun::offline();
    let line = "labs/vpn.lua:19: ";
    for (var, says) in [
        ("clients=", "labrun.wireguard: no clients"),
        (
            "clients=laptop,laptop",
            "labrun.wireguard: client laptop is listed twice",
        ),
        (
            "clients=my/laptop",
            "labrun.wireguard.address: client name \"my/laptop\" must be",
        ),
        (
            "vpn_port=70000",
            "labrun.wireguard: port must be a UDP port (1-65535), got 70000",
        ),
        (
            "vpn_from=anywhere",
            "security_group 'gateway': security_group: field 'ingress[3].cidr' must be an IPv4 CIDR block like \"10.0.0.0/16\", got \"anywhere\"",
        ),
    ] {
        refused(
            &labrun,
            &["plan", LAB, "--var", var],
            &format!("{line}{says}"),
        );
    }
}

/// The tunnel address of each client in a rendered config folder.
fn addresses(dir: &Path) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = std::fs::read_dir(dir.join("wireguard"))
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let config = std::fs::read_to_string(&path).unwrap();
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            (name, value(&config, "Interface", "Address"))
        })
        .collect();
    found.sort();
    found
}

#[test]
fn a_client_keeps_its_address_and_keys_while_others_come_and_go() {
    let labrun = Labrun::offline();
    let render = |clients: &str| {
        let dir = tempfile::tempdir().unwrap();
        let var = format!("clients={clients}");
        run_ok(
            &labrun,
            &["render", LAB, dir.path().to_str().unwrap(), "--var", &var],
        );
        dir
    };
    let first = render("laptop,phone");
    let key = |dir: &Path, name: &str| {
        let config = std::fs::read_to_string(dir.join(format!("wireguard/{name}.conf"))).unwrap();
        value(&config, "Interface", "PrivateKey")
    };
    assert_eq!(
        addresses(first.path()),
        [
            ("laptop".into(), "10.200.0.2/32".into()),
            ("phone".into(), "10.200.0.3/32".into())
        ]
    );
    let second = render("tablet,phone");
    assert_eq!(
        addresses(second.path()),
        [
            ("phone".into(), "10.200.0.3/32".into()),
            ("tablet".into(), "10.200.0.4/32".into())
        ],
        "phone keeps its address though tablet comes first; tablet takes none of a stored client's"
    );
    assert_eq!(key(second.path(), "phone"), key(first.path(), "phone"));
    let third = render("laptop,tablet");
    assert_eq!(
        addresses(third.path()),
        [
            ("laptop".into(), "10.200.0.2/32".into()),
            ("tablet".into(), "10.200.0.4/32".into())
        ]
    );
    assert_ne!(
        key(third.path(), "laptop"),
        key(first.path(), "laptop"),
        "laptop was dropped with its keys, so it is a new client"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn up_down_up_keeps_every_key_and_moves_only_the_endpoint() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let clients = ["laptop", "phone"];
    let out = run_ok(&labrun, &["up", LAB, "--yes", "--var", CLIENTS]);
    let first = vpn_lab(&moto, &labrun, "vpn").await;
    check_handed_out(&labrun, &first, &clients);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains(&format!("endpoint = {}:51820", first.public_ip)),
        "{}",
        text(&out)
    );
    assert_eq!(
        gateway_rules(&moto).await,
        [
            "-1 - 10.10.16.0/24",
            "tcp 22 203.0.113.7/32",
            "udp 51820 203.0.113.7/32"
        ]
    );

    let again = run_ok(&labrun, &["up", LAB, "--yes", "--var", CLIENTS]);
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(stdout.contains("No changes"), "{stdout}");
    assert!(stdout.contains("(0 written, 2 unchanged)"), "{stdout}");

    down_leaves_nothing(&moto, &labrun).await;
    assert!(
        !labrun.lab_dir("vpn").join("files").exists(),
        "down removes the client files"
    );

    run_ok(&labrun, &["up", LAB, "--yes", "--var", CLIENTS]);
    let second = vpn_lab(&moto, &labrun, "vpn").await;
    check_handed_out(&labrun, &second, &clients);
    assert_ne!(second.public_ip, first.public_ip, "a new Elastic IP");
    assert_eq!(
        second.server, first.server,
        "the gateway has the same keys and peers"
    );
    for ((name, old), (_, new)) in first.clients.iter().zip(&second.clients) {
        assert_ne!(old, new, "{name}'s file is rewritten");
        assert_eq!(
            without_endpoint(old),
            without_endpoint(new),
            "{name} keeps its keys and address"
        );
    }

    down_leaves_nothing(&moto, &labrun).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_vpn_port_and_who_may_reach_it_are_variables() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let vars = ["--var", "vpn_port=443", "--var", "vpn_from=198.51.100.0/24"];
    run_ok(&labrun, &[&["up", LAB, "--yes"][..], &vars].concat());
    assert_eq!(
        gateway_rules(&moto).await,
        [
            "-1 - 10.10.16.0/24",
            "tcp 22 203.0.113.7/32",
            "udp 443 198.51.100.0/24"
        ]
    );
    let lab = vpn_lab(&moto, &labrun, "vpn").await;
    assert_eq!(value(&lab.server.1, "Interface", "ListenPort"), "443");
    assert_eq!(
        value(&lab.clients[0].1, "Peer", "Endpoint"),
        format!("{}:443", lab.public_ip)
    );
    down_leaves_nothing(&moto, &labrun).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn labrun_wg_prints_draws_and_writes_a_clients_config() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    refused(
        &labrun,
        &["wg", "vpn"],
        "lab vpn has no WireGuard client configs",
    );
    run_ok(&labrun, &["up", LAB, "--yes", "--var", CLIENTS]);
    let lab = vpn_lab(&moto, &labrun, "vpn").await;
    let laptop = &lab.clients[0].1;

    refused(
        &labrun,
        &["wg", "vpn"],
        "lab vpn has several WireGuard clients: name one of laptop, phone",
    );
    refused(
        &labrun,
        &["wg", "vpn", "tablet"],
        "lab vpn has no WireGuard client tablet (clients: laptop, phone)",
    );
    for lab_arg in ["vpn", LAB] {
        let out = run_ok(&labrun, &["wg", lab_arg, "laptop"]);
        assert_eq!(&String::from_utf8(out.stdout).unwrap(), laptop, "{lab_arg}");
    }

    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("laptop.png");
    let out = run_ok(
        &labrun,
        &["wg", "vpn", "laptop", "--qr-png", png.to_str().unwrap()],
    );
    assert!(out.stdout.is_empty(), "{}", text(&out));
    assert_eq!(
        &zbar_decode(&png),
        laptop,
        "the PNG holds exactly the config"
    );
    assert_eq!(mode(&png), 0o600, "the PNG holds the private key");

    let out = run_ok(&labrun, &["wg", "vpn", "laptop", "--qr"]);
    let drawn = String::from_utf8(out.stdout).unwrap();
    let shown = dir.path().join("terminal.png");
    std::fs::write(&shown, terminal_as_png(&drawn)).unwrap();
    assert_eq!(
        &zbar_decode(&shown),
        laptop,
        "the terminal's QR code holds exactly the config"
    );

    down_leaves_nothing(&moto, &labrun).await;
    refused(
        &labrun,
        &["wg", "vpn", "laptop"],
        "lab vpn has no WireGuard client configs",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn renew_keys_on_up_makes_new_wireguard_keys_and_keeps_the_ssh_key() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    run_ok(&labrun, &["up", LAB, "--yes"]);
    let before = secrets(&labrun);
    assert!(
        before["ssh.user"].is_string(),
        "the lab keeps an SSH user key: {before}"
    );
    let old = vpn_lab(&moto, &labrun, "vpn").await;

    let out = run_ok(&labrun, &["plan", LAB, "--renew-keys"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("instance.gateway"),
        "{}",
        text(&out)
    );
    assert_eq!(secrets(&labrun), before, "plan --renew-keys saves nothing");

    run_ok(&labrun, &["up", LAB, "--yes", "--renew-keys"]);
    let after = secrets(&labrun);
    let new = vpn_lab(&moto, &labrun, "vpn").await;
    check_handed_out(&labrun, &new, &["laptop"]);
    let (old_wg, new_wg) = (&before["wireguard"], &after["wireguard"]);
    for name in ["server", "client.laptop"] {
        assert_ne!(old_wg["keys"][name], new_wg["keys"][name], "{name}");
    }
    assert_ne!(old_wg["preshared"]["laptop"], new_wg["preshared"]["laptop"]);
    assert_ne!(
        old.server, new.server,
        "the gateway got the new server config"
    );
    assert_ne!(
        value(&old.clients[0].1, "Interface", "PrivateKey"),
        value(&new.clients[0].1, "Interface", "PrivateKey")
    );
    for (entry, kept) in before.as_object().unwrap() {
        if entry != "wireguard" {
            assert_eq!(&after[entry], kept, "{entry} is kept");
        }
    }
    down_leaves_nothing(&moto, &labrun).await;
}

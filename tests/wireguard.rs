//! labrun's WireGuard keys and configs checked with WireGuard's own tools:
//! `wg pubkey` derives the same public keys, and `zbarimg` reads the QR
//! codes back to exactly the config.

mod common;

use common::wireguard::{
    assert_pair_up, terminal_as_png, value, wg_genkey, wg_pubkey, zbar_decode,
};
use common::{Labrun, text};
use labrun::wireguard::{
    ClientConfig, PresharedKey, PrivateKey, ServerConfig, ServerPeer, qr_png, qr_terminal,
};
use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;

/// A client's keys.
struct Client {
    name: &'static str,
    key: PrivateKey,
    psk: PresharedKey,
    address: Ipv4Addr,
}

/// A server and two clients with fresh keys, and their configs.
fn configs() -> (String, Vec<(&'static str, String)>) {
    let server_key = PrivateKey::generate().unwrap();
    let clients: Vec<Client> = ["laptop", "phone"]
        .into_iter()
        .zip(2..)
        .map(|(name, last)| Client {
            name,
            key: PrivateKey::generate().unwrap(),
            psk: PresharedKey::generate().unwrap(),
            address: Ipv4Addr::new(10, 200, 0, last),
        })
        .collect();
    let server = ServerConfig {
        address: "10.200.0.1/24".parse().unwrap(),
        listen_port: 51820,
        private_key: server_key.clone(),
        peers: (clients.iter())
            .map(|c| ServerPeer {
                name: c.name.into(),
                public_key: c.key.public_key(),
                preshared_key: c.psk.clone(),
                address: c.address,
            })
            .collect(),
    };
    let client_configs = (clients.iter())
        .map(|c| {
            let config = ClientConfig {
                address: c.address,
                dns: vec![],
                private_key: c.key.clone(),
                server_public_key: server_key.public_key(),
                preshared_key: c.psk.clone(),
                endpoint: "203.0.113.7:51820".into(),
                allowed_ips: vec![
                    "10.10.16.0/20".parse().unwrap(),
                    "10.200.0.0/24".parse().unwrap(),
                ],
            };
            (c.name, config.render().unwrap())
        })
        .collect();
    (server.render().unwrap(), client_configs)
}

#[test]
fn keys_made_by_labrun_pair_up_as_wg_derives_them() {
    let (server, clients) = configs();
    assert_pair_up(&server, &clients);
}

#[test]
fn keys_made_by_wg_genkey_read_back_with_the_public_key_wg_derives() {
    for _ in 0..3 {
        let private = wg_genkey();
        let key = PrivateKey::from_base64(&private).unwrap();
        assert_eq!(key.to_base64(), private);
        assert_eq!(key.public_key().to_string(), wg_pubkey(&private));
    }
}

#[test]
fn the_qr_png_decodes_to_exactly_the_config() {
    let dir = tempfile::tempdir().unwrap();
    for (name, config) in configs().1 {
        let path = dir.path().join(format!("{name}.png"));
        std::fs::write(&path, qr_png(&config).unwrap()).unwrap();
        assert_eq!(zbar_decode(&path), config, "{name}");
    }
}

#[test]
fn the_terminal_qr_code_decodes_to_exactly_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let (_, clients) = configs();
    let (_, config) = &clients[0];
    let path = dir.path().join("terminal.png");
    std::fs::write(&path, terminal_as_png(&qr_terminal(config).unwrap())).unwrap();
    assert_eq!(&zbar_decode(&path), config);
}

/// A lab whose script makes a gateway's and its clients' configs with
/// `labrun.wireguard` and writes them as lab files.
const KEYS_LAB: &str = r#"
local wg = labrun.wireguard
local lab = labrun.lab { name = "wgkeys" }
local server = wg.key("server")
local peers = {}
local i = 1
for name in labrun.var("clients", "laptop,phone"):gmatch("[^,]+") do
  i = i + 1
  local key, psk, address = wg.key("client." .. name), wg.preshared(name), "10.200.0." .. i
  peers[#peers + 1] = { name = name, public_key = key.public, preshared_key = psk, address = address }
  lab:file("clients/" .. name .. ".conf", wg.client_config {
    address = address, private_key = key.private, server_public_key = server.public,
    preshared_key = psk, endpoint = "203.0.113.7:51820", dns = {},
    allowed_ips = { "10.10.16.0/20", "10.200.0.0/24" },
  }, { mode = "0600" })
end
lab:file("wg0.conf", wg.server_config {
  address = "10.200.0.1/24", listen_port = 51820, private_key = server.private, peers = peers,
}, { mode = "0600" })
"#;

/// Runs `labrun render` of `script` with `args` into a new folder; returns
/// the server config and the client configs by name.
fn render(
    labrun: &Labrun,
    script: &std::path::Path,
    args: &[&str],
) -> (String, Vec<(String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec![
        "render",
        script.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ];
    all.extend(args);
    let out = labrun.run(&all);
    assert!(out.status.success(), "{}", text(&out));
    let read = |path: &std::path::Path| {
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
        std::fs::read_to_string(path).unwrap()
    };
    let server = read(&dir.path().join("wg0.conf"));
    let names = server.lines().filter_map(|l| l.strip_prefix("# "));
    let clients = names
        .map(|name| {
            let config = read(&dir.path().join(format!("clients/{name}.conf")));
            (name.to_string(), config)
        })
        .collect();
    (server, clients)
}

/// The `wireguard` entry of the lab's secrets.
fn stored_keys(labrun: &Labrun) -> serde_json::Value {
    let path = labrun.lab_dir("wgkeys").join("secrets.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    json["wireguard"].clone()
}

#[test]
fn keys_kept_with_the_lab_pair_up_and_stay_across_loads() {
    let labrun = Labrun::offline();
    let dir = tempfile::tempdir().unwrap();
    let script = common::script(dir.path(), "wgkeys.lua", KEYS_LAB);
    let (server, clients) = render(&labrun, &script, &[]);
    assert_eq!(
        clients.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
        ["laptop", "phone"]
    );
    assert_pair_up(&server, &clients);
    let stored = stored_keys(&labrun);
    assert_eq!(
        stored["keys"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["client.laptop", "client.phone", "server"]
    );
    assert_eq!(stored["preshared"].as_object().unwrap().len(), 2);

    assert_eq!(
        render(&labrun, &script, &[]),
        (server.clone(), clients.clone()),
        "same keys"
    );
    assert_eq!(stored_keys(&labrun), stored);

    // Another client list: phone keeps its keys, laptop's are dropped.
    let (server2, clients2) = render(&labrun, &script, &["--var", "clients=phone,tablet"]);
    assert_pair_up(&server2, &clients2);
    let key = |config: &str| value(config, "Interface", "PrivateKey");
    assert_eq!(
        key(&clients2[0].1),
        key(&clients[1].1),
        "phone keeps its key"
    );
    assert_eq!(
        value(&clients2[0].1, "Peer", "PresharedKey"),
        value(&clients[1].1, "Peer", "PresharedKey")
    );
    assert_eq!(key(&server2), key(&server), "the server keeps its key");
    let now = stored_keys(&labrun);
    assert!(now["keys"].get("client.laptop").is_none(), "{now}");
    assert!(now["preshared"].get("tablet").is_some(), "{now}");
}

#[test]
fn bad_wireguard_calls_name_the_script_line_and_exit_2() {
    let labrun = Labrun::offline();
    let dir = tempfile::tempdir().unwrap();
    for (body, says) in [
        (
            "labrun.wireguard.key(\"server\")\nlabrun.lab { name = \"wgbad\" }\n",
            "bad.lua:1: labrun.wireguard.key: declare the lab first",
        ),
        (
            "labrun.lab { name = \"wgbad\" }\nlocal k = labrun.wireguard.key(\"s\")\n\
             labrun.wireguard.server_config { address = \"10.200.0.0/24\",\n\
             listen_port = 51820, private_key = k.private }\n",
            "bad.lua:3: WireGuard server: 10.200.0.0/24 is not a host address of 10.200.0.0/24",
        ),
        (
            "labrun.lab { name = \"wgbad\" }\nlabrun.wireguard.client_config { address = \"10.200.0.2\" }\n",
            "bad.lua:2: labrun.wireguard.client_config: missing field `private_key`",
        ),
        (
            "labrun.lab { name = \"wgbad\" }\nlabrun.wireguard.server_config { address = \"10.200.0.1/24\",\n\
             listen_port = 51820, private_key = \"AAAA\" }\n",
            "bad.lua:2: labrun.wireguard.server_config: invalid WireGuard private key: 3 bytes instead of 32",
        ),
    ] {
        let script = common::script(dir.path(), "bad.lua", body);
        let out = labrun.run(&["plan", script.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{}",
            text(&out)
        );
    }
}

/// A lab that writes the tunnel address `labrun.wireguard.address` gives
/// each client of `--var clients` in the net of `--var server`.
const ADDRESS_LAB: &str = r#"
local lab = labrun.lab { name = "wgaddr" }
local server = labrun.var("server", "10.200.0.1/30")
local found = {}
for name in labrun.var("clients", "a"):gmatch("[^,]+") do
  found[#found + 1] = name .. "=" .. labrun.wireguard.address(name, server)
end
lab:file("addresses", table.concat(found, " "))
"#;

#[test]
fn a_client_address_follows_the_tunnel_net_and_a_full_net_is_refused() {
    let labrun = Labrun::offline();
    let dir = tempfile::tempdir().unwrap();
    let script = common::script(dir.path(), "wgaddr.lua", ADDRESS_LAB);
    let script = script.to_str().unwrap();
    let out_dir = dir.path().join("out");
    let addresses = |vars: &[&str]| {
        let mut args = vec!["render", script, out_dir.to_str().unwrap()];
        args.extend(vars.iter().flat_map(|v| ["--var", v]));
        let out = labrun.run(&args);
        assert!(out.status.success(), "{}", text(&out));
        std::fs::read_to_string(out_dir.join("addresses")).unwrap()
    };
    assert_eq!(addresses(&[]), "a=10.200.0.2");
    assert_eq!(
        addresses(&["server=10.201.0.1/24", "clients=b,a"]),
        "b=10.201.0.2 a=10.201.0.3",
        "a's stored address is outside the new net: it gets a new one"
    );
    assert_eq!(
        addresses(&["server=10.201.0.1/24", "clients=a"]),
        "a=10.201.0.3"
    );

    for (vars, says) in [
        (
            ["server=10.200.0.1/30", "clients=a,b"],
            "wgaddr.lua:6: labrun.wireguard.address: the tunnel net 10.200.0.0/30 has no free address for b",
        ),
        (
            ["server=10.200.0.1", "clients=a"],
            "wgaddr.lua:6: labrun.wireguard.address: \"10.200.0.1\" is not the server's address with the tunnel net's prefix",
        ),
    ] {
        let mut args = vec!["plan", script];
        args.extend(vars.iter().flat_map(|v| ["--var", *v]));
        let out = labrun.run(&args);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{}",
            text(&out)
        );
    }
}

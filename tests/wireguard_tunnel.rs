//! A real tunnel from labrun's configs: wireguard-go runs the gateway's
//! `wg0.conf` in one network namespace and a client config in another,
//! joined by a veth pair ("the internet"); a third namespace behind the
//! gateway plays the lab's private subnet. The configs are labrun's own:
//! made by the library, and made by `labrun up labs/vpn.lua` against moto.
//! Needs root (namespaces, /dev/net/tun); where namespaces cannot be made
//! the tests say so and skip.

mod common;

use common::netns::{Netns, WireguardGo, link};
use common::wireguard::vpn_lab;
use common::{Labrun, Moto, text};
use labrun::wireguard::{ClientConfig, PresharedKey, PrivateKey, ServerConfig, ServerPeer};
use std::net::Ipv4Addr;
use std::time::Duration;

const GATEWAY_TUNNEL_IP: &str = "10.200.0.1";
const LAB_HOST: &str = "10.10.16.10";
/// The gateway's address on "the internet" (the veth pair to the client).
const GATEWAY_OUTSIDE: &str = "198.18.0.1";
/// Long enough for many handshakes on a veth pair: a ping that has not
/// gone through by then never will.
const NO_ANSWER: Duration = Duration::from_secs(3);
/// Long enough for a handshake retried after a failed one (every 5 s).
const ANSWER: Duration = Duration::from_secs(15);

/// The client, the gateway and the lab host, each in its namespace.
struct Namespaces {
    client: Netns,
    gateway: Netns,
    lab: Netns,
}

/// The three namespaces linked up, or `None` (with a message) where
/// namespaces cannot be made.
fn namespaces() -> Option<Namespaces> {
    let made = (|| Ok::<_, String>((Netns::create()?, Netns::create()?, Netns::create()?)))();
    let (client, gateway, lab) = match made {
        Ok(three) => three,
        Err(e) => {
            println!("SKIPPED: cannot create network namespaces here ({e}); run as root");
            return None;
        }
    };
    link(
        &client,
        "198.18.0.2/30",
        &gateway,
        &format!("{GATEWAY_OUTSIDE}/30"),
    );
    link(&gateway, "10.10.16.1/24", &lab, &format!("{LAB_HOST}/24"));
    Some(Namespaces {
        client,
        gateway,
        lab,
    })
}

/// Keys of the gateway and its one client.
struct Keys {
    server: PrivateKey,
    client: PrivateKey,
    psk: PresharedKey,
}

impl Keys {
    fn generate() -> Keys {
        Keys {
            server: PrivateKey::generate().unwrap(),
            client: PrivateKey::generate().unwrap(),
            psk: PresharedKey::generate().unwrap(),
        }
    }

    fn server_config(&self) -> String {
        ServerConfig {
            address: "10.200.0.1/24".parse().unwrap(),
            listen_port: 51820,
            private_key: self.server.clone(),
            peers: vec![ServerPeer {
                name: "laptop".into(),
                public_key: self.client.public_key(),
                preshared_key: self.psk.clone(),
                address: Ipv4Addr::new(10, 200, 0, 2),
            }],
        }
        .render()
        .unwrap()
    }

    /// The client's config, holding `key` and `psk` (its own or others).
    fn client_config(&self, key: &PrivateKey, psk: &PresharedKey) -> String {
        ClientConfig {
            address: Ipv4Addr::new(10, 200, 0, 2),
            dns: vec![],
            private_key: key.clone(),
            server_public_key: self.server.public_key(),
            preshared_key: psk.clone(),
            endpoint: format!("{GATEWAY_OUTSIDE}:51820"),
            allowed_ips: vec![
                "10.10.16.0/20".parse().unwrap(),
                "10.200.0.0/24".parse().unwrap(),
            ],
        }
        .render()
        .unwrap()
    }
}

#[test]
fn a_client_reaches_the_gateway_and_through_its_hooks_the_lab_behind_it() {
    let Some(ns) = namespaces() else { return };
    let keys = Keys::generate();
    let server_config = keys.server_config();
    let gateway = WireguardGo::start(&ns.gateway);
    gateway.up(&server_config);
    let client = WireguardGo::start(&ns.client);
    client.up(&keys.client_config(&keys.client, &keys.psk));

    assert!(
        ns.client.pings(GATEWAY_TUNNEL_IP, ANSWER),
        "the gateway's tunnel address answers through the tunnel"
    );
    assert!(
        gateway.latest_handshakes()[0] > 0,
        "the gateway saw a handshake"
    );
    assert!(
        client.latest_handshakes()[0] > 0,
        "the client saw a handshake"
    );

    assert!(
        !ns.client.pings(LAB_HOST, NO_ANSWER),
        "without the PostUp hooks the gateway neither forwards nor masquerades"
    );
    gateway.hooks(&server_config, "PostUp");
    assert!(
        ns.client.pings(LAB_HOST, ANSWER),
        "with them the lab host answers"
    );
    assert!(
        !ns.lab.pings("10.200.0.2", NO_ANSWER),
        "the lab host has no route to the tunnel net: it answered the gateway's masquerade"
    );
    gateway.hooks(&server_config, "PostDown");
    let rules = String::from_utf8(ns.gateway.sh("iptables -S; iptables -t nat -S").stdout).unwrap();
    assert!(
        !rules.contains("MASQUERADE") && !rules.contains(&gateway.iface),
        "{rules}"
    );
    assert!(
        !ns.client.pings(LAB_HOST, NO_ANSWER),
        "PostDown undid the masquerade"
    );
}

#[test]
fn a_client_with_a_wrong_key_or_preshared_key_gets_no_handshake() {
    let Some(ns) = namespaces() else { return };
    let keys = Keys::generate();
    let gateway = WireguardGo::start(&ns.gateway);
    gateway.up(&keys.server_config());
    let client = WireguardGo::start(&ns.client);
    let stranger = PrivateKey::generate().unwrap();
    client.up(&keys.client_config(&stranger, &keys.psk));

    assert!(
        !ns.client.pings(GATEWAY_TUNNEL_IP, NO_ANSWER),
        "an unknown key gets no answer"
    );
    assert_eq!(gateway.latest_handshakes(), [0]);
    assert_eq!(client.latest_handshakes(), [0]);

    let other_psk = PresharedKey::generate().unwrap();
    client.setconf(&keys.client_config(&keys.client, &other_psk));
    assert!(
        !ns.client.pings(GATEWAY_TUNNEL_IP, NO_ANSWER),
        "a wrong preshared key gets no answer"
    );
    assert_eq!(gateway.latest_handshakes(), [0]);
    assert_eq!(client.latest_handshakes(), [0]);

    client.setconf(&keys.client_config(&keys.client, &keys.psk));
    assert!(
        ns.client.pings(GATEWAY_TUNNEL_IP, ANSWER),
        "the same client with its own keys gets through"
    );
    assert!(gateway.latest_handshakes()[0] > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_vpn_labs_own_configs_carry_a_ping_into_the_lab() {
    let Some(ns) = namespaces() else { return };
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let out = labrun.run(&["up", "labs/vpn.lua", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let lab = vpn_lab(&moto, &labrun, "vpn").await;
    let server = &lab.server.1;
    let (name, laptop) = &lab.clients[0];
    assert_eq!(name, "laptop");
    // moto's Elastic IP leads nowhere: only the endpoint is pointed at the
    // gateway's namespace.
    let endpoint = format!("\nEndpoint = {}:51820\n", lab.public_ip);
    assert!(laptop.contains(&endpoint), "{laptop}");
    let laptop = laptop.replace(
        &endpoint,
        &format!("\nEndpoint = {GATEWAY_OUTSIDE}:51820\n"),
    );

    let gateway = WireguardGo::start(&ns.gateway);
    gateway.up(server);
    gateway.hooks(server, "PostUp");
    let client = WireguardGo::start(&ns.client);
    client.up(&laptop);
    assert!(
        ns.client.pings(GATEWAY_TUNNEL_IP, ANSWER),
        "the gateway's tunnel address answers the lab's own client config"
    );
    assert!(
        ns.client.pings(LAB_HOST, ANSWER),
        "a host of the lab's VPC block answers through the gateway"
    );
    assert!(gateway.latest_handshakes()[0] > 0);
    gateway.hooks(server, "PostDown");
}

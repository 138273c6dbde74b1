//! labrun's WireGuard keys and configs checked with WireGuard's own tools:
//! `wg pubkey` derives the same public keys, and `zbarimg` reads the QR
//! codes back to exactly the config.

mod common;

use common::wireguard::{value, values, wg_genkey, wg_pubkey, zbar_decode};
use labrun::wireguard::{
    ClientConfig, PresharedKey, PrivateKey, ServerConfig, ServerPeer, qr_png, qr_terminal,
};
use std::net::Ipv4Addr;

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
    let server_public = wg_pubkey(&value(&server, "Interface", "PrivateKey"));
    let peer_keys = values(&server, "Peer", "PublicKey");
    let peer_psks = values(&server, "Peer", "PresharedKey");
    assert_eq!(peer_keys.len(), 2);
    for (i, (name, client)) in clients.iter().enumerate() {
        assert_eq!(
            value(client, "Peer", "PublicKey"),
            server_public,
            "{name} knows the server by the key wg derives from the server's"
        );
        assert_eq!(
            wg_pubkey(&value(client, "Interface", "PrivateKey")),
            peer_keys[i],
            "the server knows {name} by the key wg derives from {name}'s"
        );
        assert_eq!(value(client, "Peer", "PresharedKey"), peer_psks[i]);
        let address = value(client, "Interface", "Address");
        assert_eq!(values(&server, "Peer", "AllowedIPs")[i], address);
    }
    assert_ne!(
        peer_psks[0], peer_psks[1],
        "each client has its own preshared key"
    );
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

/// The terminal drawing as a PNG the way a dark terminal shows it: drawn
/// half blocks light, blanks dark, 4 pixels per module.
fn terminal_as_png(drawn: &str) -> Vec<u8> {
    const SCALE: usize = 4;
    let rows: Vec<Vec<char>> = drawn.lines().map(|l| l.chars().collect()).collect();
    let (width, height) = (rows[0].len(), rows.len() * 2);
    let mut pixels = Vec::with_capacity(width * height * SCALE * SCALE);
    for y in 0..height {
        let line: Vec<u8> = (rows[y / 2].iter())
            .map(|c| match (c, y % 2) {
                ('█', _) | ('▀', 0) | ('▄', 1) => 255,
                _ => 0,
            })
            .flat_map(|p| [p; SCALE])
            .collect();
        for _ in 0..SCALE {
            pixels.extend(&line);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, (width * SCALE) as u32, (height * SCALE) as u32);
    encoder.set_color(png::ColorType::Grayscale);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    out
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

//! WireGuard's own tools on labrun's configs: `wg pubkey` to derive public
//! keys (and check that configs pair up), `zbarimg` to read QR codes back
//! (also of a terminal drawing), and a reader of config lines.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// The public key `wg pubkey` derives from a base64 private key.
pub fn wg_pubkey(private: &str) -> String {
    let mut child = Command::new("wg")
        .arg("pubkey")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wg (Debian wireguard-tools, installed by .ci/setup)");
    writeln!(child.stdin.take().unwrap(), "{private}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "wg pubkey: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A private key made by `wg genkey`.
pub fn wg_genkey() -> String {
    let out = Command::new("wg")
        .arg("genkey")
        .output()
        .expect("wg genkey");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The values of every `key = value` line of `section` (`Interface` or
/// `Peer`; every one of that name) in a WireGuard config, in order.
pub fn values(config: &str, section: &str, key: &str) -> Vec<String> {
    let mut current = "";
    let mut found = Vec::new();
    for line in config.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name;
        } else if let Some((k, v)) = line.split_once('=')
            && current == section
            && k.trim() == key
        {
            found.push(v.trim().to_string());
        }
    }
    found
}

/// The one value of `key` in `section`.
pub fn value(config: &str, section: &str, key: &str) -> String {
    let all = values(config, section, key);
    assert_eq!(all.len(), 1, "{section}.{key} in\n{config}");
    all.into_iter().next().unwrap()
}

/// What `zbarimg` reads from the QR code in the image at `path`, byte for
/// byte (`-Sbinary`: no charset guessing, no newline added).
pub fn zbar_decode(path: &Path) -> String {
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sbinary"])
        .arg(path)
        .output()
        .expect("zbarimg (Debian zbar-tools, installed by .ci/setup)");
    assert!(
        out.status.success(),
        "zbarimg {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("a QR code of UTF-8 text")
}

/// Checks with `wg pubkey` that the server knows each client by the key
/// in the client's config and each client knows the server by its key,
/// with one preshared key per client on both sides.
pub fn assert_pair_up(server: &str, clients: &[(impl AsRef<str>, String)]) {
    let server_public = wg_pubkey(&value(server, "Interface", "PrivateKey"));
    let peer_keys = values(server, "Peer", "PublicKey");
    let peer_psks = values(server, "Peer", "PresharedKey");
    assert_eq!(peer_keys.len(), clients.len(), "{server}");
    for (i, (name, client)) in clients.iter().enumerate() {
        let name = name.as_ref();
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
        assert_eq!(values(server, "Peer", "AllowedIPs")[i], address);
    }
    let distinct: std::collections::HashSet<_> = peer_psks.iter().collect();
    assert_eq!(
        distinct.len(),
        peer_psks.len(),
        "each client has its own preshared key"
    );
}

/// The terminal drawing as a PNG the way a dark terminal shows it: drawn
/// half blocks light, blanks dark, 4 pixels per module.
pub fn terminal_as_png(drawn: &str) -> Vec<u8> {
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

/// What `labrun up` of the VPN lab hands out: the gateway's Ignition (its
/// user data), the server config in it, the client configs in the lab
/// folder, and the gateway's Elastic IP.
pub struct VpnLab {
    pub ignition: serde_json::Value,
    /// The mode and text of /etc/wireguard/wg0.conf in the Ignition.
    pub server: (u32, String),
    /// Each client's name and the text of files/wireguard/NAME.conf, by name.
    pub clients: Vec<(String, String)>,
    pub public_ip: String,
}

/// Reads what the VPN lab `lab` (up in `moto`, made by `labrun`) hands out.
pub async fn vpn_lab(moto: &super::Moto, labrun: &super::Labrun, lab: &str) -> VpnLab {
    let ec2 = moto.ec2().await;
    let user_data = super::node_config(&ec2, lab, "instance.gateway").await;
    let ignition: serde_json::Value =
        serde_json::from_str(&user_data).expect("the gateway's user data is Ignition JSON");
    let (mode, text) = super::ignition::file(&ignition, "/etc/wireguard/wg0.conf");
    let dir = labrun.lab_dir(lab).join("files/wireguard");
    let mut clients: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    clients.sort();
    let tag = aws_sdk_ec2::types::Filter::builder()
        .name("tag:labrun:lab")
        .values(lab)
        .build();
    let addresses = ec2.describe_addresses().filters(tag).send().await.unwrap();
    let [address] = addresses.addresses() else {
        panic!("one Elastic IP: {addresses:?}")
    };
    VpnLab {
        ignition,
        server: (mode, String::from_utf8(text).unwrap()),
        clients,
        public_ip: address.public_ip().unwrap().to_string(),
    }
}

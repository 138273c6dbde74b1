use super::*;
use std::net::Ipv4Addr;

/// RFC 7748 section 6.1: Alice's private key and the public key it gives.
const RFC_PRIVATE: &str = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=";
const RFC_PUBLIC: &str = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
const SERVER: &str = "QK9yG0faCBMpv7suckgnJR0c0TAmTpBCWxLteWoD3Xs=";
const SERVER_PUBLIC: &str = "BHB9cNBzQYuSPTCMOVYvW1zExzdkFVqpyx5Uy8Ld0S8=";
const LAPTOP: &str = "2JYQNebFCLecwDulPuvFiZCo1bybxOys2ofW5ckpLVI=";
const LAPTOP_PUBLIC: &str = "gLR3G+H6XYdW6v6k14na2l65bDuNd59Ft1Ny9aoBGE0=";
const PHONE_PUBLIC: &str = "WXVZ6LAAHgci7vpTUQCmZcRQAKM9K42y9d0S0xM/JQ8=";
const PSK_LAPTOP: &str = "vjbPoQkb5L2lOE9vJMPM7DCvnKabyIrwMTUG6J99xrI=";
const PSK_PHONE: &str = "TC9BOseKAV1o1j1a5nuRgqyUsnd86glWw97z4YUu13s=";

fn private(text: &str) -> PrivateKey {
    PrivateKey::from_base64(text).unwrap()
}

fn psk(text: &str) -> PresharedKey {
    PresharedKey::from_base64(text).unwrap()
}

fn peer(name: &str, public: &str, preshared: &str, last: u8) -> ServerPeer {
    ServerPeer {
        name: name.into(),
        public_key: PublicKey::from_base64(public).unwrap(),
        preshared_key: psk(preshared),
        address: Ipv4Addr::new(10, 200, 0, last),
    }
}

fn server() -> ServerConfig {
    ServerConfig {
        address: "10.200.0.1/24".parse().unwrap(),
        listen_port: 51820,
        private_key: private(SERVER),
        peers: vec![
            peer("laptop", LAPTOP_PUBLIC, PSK_LAPTOP, 2),
            peer("phone", PHONE_PUBLIC, PSK_PHONE, 3),
        ],
    }
}

fn client() -> ClientConfig {
    ClientConfig {
        address: Ipv4Addr::new(10, 200, 0, 2),
        dns: vec![],
        private_key: private(LAPTOP),
        server_public_key: PublicKey::from_base64(SERVER_PUBLIC).unwrap(),
        preshared_key: psk(PSK_LAPTOP),
        endpoint: "203.0.113.7:51820".into(),
        allowed_ips: vec![
            "10.10.16.0/20".parse().unwrap(),
            "10.200.0.0/24".parse().unwrap(),
        ],
    }
}

#[test]
fn the_public_key_is_the_rfc_7748_one() {
    assert_eq!(private(RFC_PRIVATE).public_key().to_string(), RFC_PUBLIC);
    assert_eq!(private(SERVER).public_key().to_string(), SERVER_PUBLIC);
}

#[test]
fn generated_keys_are_clamped_distinct_and_read_back() {
    let a = PrivateKey::generate().unwrap();
    let b = PrivateKey::generate().unwrap();
    assert_ne!(a.public_key(), b.public_key());
    let bytes =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, a.to_base64()).unwrap();
    assert_eq!(bytes[0] & 7, 0, "low bits cleared");
    assert_eq!(
        bytes[31] & 0xc0,
        0x40,
        "high bit cleared, second highest set"
    );
    let again = PrivateKey::from_base64(&a.to_base64()).unwrap();
    assert_eq!(again.public_key(), a.public_key());
    let p = PresharedKey::generate().unwrap();
    assert_eq!(p.to_base64().len(), 44);
    assert_ne!(p, PresharedKey::generate().unwrap());
}

#[test]
fn keys_round_trip_through_serde_as_base64() {
    let json = serde_json::to_string(&(private(SERVER), psk(PSK_LAPTOP))).unwrap();
    assert_eq!(json, format!(r#"["{SERVER}","{PSK_LAPTOP}"]"#));
    let (k, p): (PrivateKey, PresharedKey) = serde_json::from_str(&json).unwrap();
    assert_eq!(k.to_base64(), SERVER);
    assert_eq!(p, psk(PSK_LAPTOP));
    let bad = serde_json::from_str::<PrivateKey>(r#""AAAA""#).unwrap_err();
    assert!(bad.to_string().contains("3 bytes instead of 32"), "{bad}");
}

#[test]
fn bad_key_text_is_refused_with_what_it_is() {
    let e = PublicKey::from_base64("not base64!")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("invalid WireGuard public key: "), "{e}");
    let e = PresharedKey::from_base64("AAAA").unwrap_err().to_string();
    assert_eq!(e, "invalid WireGuard preshared key: 3 bytes instead of 32");
}

#[test]
fn debug_output_never_shows_a_secret() {
    let shown = format!(
        "{:?}",
        (private(SERVER), psk(PSK_LAPTOP), server(), client())
    );
    for secret in [SERVER, LAPTOP, PSK_LAPTOP, PSK_PHONE] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(shown.contains(SERVER_PUBLIC), "{shown}");
}

#[test]
fn the_server_config_forwards_masquerades_and_allows_each_client_its_address() {
    let expected = format!(
        "[Interface]
Address = 10.200.0.1/24
ListenPort = 51820
PrivateKey = {SERVER}
PostUp = sysctl -w net.ipv4.ip_forward=1
PostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -A FORWARD -o %i -j ACCEPT
PostUp = iptables -t nat -A POSTROUTING -s 10.200.0.0/24 ! -d 10.200.0.0/24 -j MASQUERADE
PostDown = iptables -D FORWARD -i %i -j ACCEPT; iptables -D FORWARD -o %i -j ACCEPT
PostDown = iptables -t nat -D POSTROUTING -s 10.200.0.0/24 ! -d 10.200.0.0/24 -j MASQUERADE

# laptop
[Peer]
PublicKey = {LAPTOP_PUBLIC}
PresharedKey = {PSK_LAPTOP}
AllowedIPs = 10.200.0.2/32

# phone
[Peer]
PublicKey = {PHONE_PUBLIC}
PresharedKey = {PSK_PHONE}
AllowedIPs = 10.200.0.3/32
"
    );
    assert_eq!(server().render().unwrap(), expected);
}

#[test]
fn a_server_config_that_cannot_work_is_refused() {
    let refused = |change: &dyn Fn(&mut ServerConfig), says: &str| {
        let mut s = server();
        change(&mut s);
        let e = s.render().unwrap_err().to_string();
        assert!(e.contains(says), "{e} should say {says:?}");
    };
    refused(
        &|s| s.address = "10.200.0.0/24".parse().unwrap(),
        "10.200.0.0/24 is not a host address",
    );
    refused(
        &|s| s.peers[1].address = Ipv4Addr::new(10, 201, 0, 3),
        "phone: 10.201.0.3 is not a host address of the tunnel net 10.200.0.0/24",
    );
    refused(
        &|s| s.peers[1].address = Ipv4Addr::new(10, 200, 0, 255),
        "phone: 10.200.0.255 is not a host",
    );
    refused(
        &|s| s.peers[1].address = Ipv4Addr::new(10, 200, 0, 1),
        "phone: 10.200.0.1 is already taken",
    );
    refused(
        &|s| s.peers[1].address = Ipv4Addr::new(10, 200, 0, 2),
        "phone: 10.200.0.2 is already taken",
    );
    refused(
        &|s| s.peers[1].name = "laptop".into(),
        "two peers are named \"laptop\"",
    );
    refused(
        &|s| s.peers[1].name = "a\nb".into(),
        "must be one non-empty line",
    );
    refused(
        &|s| s.peers[1].public_key = s.peers[0].public_key,
        "phone: its public key is already used",
    );
    refused(
        &|s| s.peers[0].public_key = s.private_key.public_key(),
        "laptop: its public key is already used",
    );
}

#[test]
fn the_client_config_sends_only_the_lab_through_the_tunnel() {
    let expected = format!(
        "[Interface]
Address = 10.200.0.2/32
PrivateKey = {LAPTOP}

[Peer]
PublicKey = {SERVER_PUBLIC}
PresharedKey = {PSK_LAPTOP}
Endpoint = 203.0.113.7:51820
AllowedIPs = 10.10.16.0/20, 10.200.0.0/24
PersistentKeepalive = 25
"
    );
    assert_eq!(client().render().unwrap(), expected);
    let mut with_dns = client();
    with_dns.dns = vec!["10.10.16.2".parse().unwrap(), "1.1.1.1".parse().unwrap()];
    let text = with_dns.render().unwrap();
    assert!(
        text.contains("Address = 10.200.0.2/32\nDNS = 10.10.16.2, 1.1.1.1\nPrivateKey"),
        "{text}"
    );
}

#[test]
fn a_client_config_that_cannot_work_is_refused() {
    let refused = |change: &dyn Fn(&mut ClientConfig), says: &str| {
        let mut c = client();
        change(&mut c);
        let e = c.render().unwrap_err().to_string();
        assert!(e.contains(says), "{e} should say {says:?}");
    };
    for endpoint in ["203.0.113.7", ":51820", "203.0.113.7:99999", "host:port"] {
        refused(&|c| c.endpoint = endpoint.into(), "is not HOST:PORT");
    }
    refused(&|c| c.endpoint = "a b:1".into(), "contains a space");
    refused(
        &|c| c.allowed_ips.clear(),
        "nothing would go through the tunnel",
    );
    refused(
        &|c| c.server_public_key = c.private_key.public_key(),
        "the client's key is the server's key",
    );
    let mut named = client();
    named.endpoint = "vpn.example.org:443".into();
    assert!(
        named
            .render()
            .unwrap()
            .contains("Endpoint = vpn.example.org:443\n")
    );
}

#[test]
fn the_terminal_qr_code_has_the_modules_of_the_code_and_its_quiet_zone() {
    let text = client().render().unwrap();
    let drawn = qr_terminal(&text).unwrap();
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let side = code.width() + 8;
    let rows: Vec<Vec<char>> = drawn.lines().map(|l| l.chars().collect()).collect();
    assert_eq!(rows.len(), side.div_ceil(2));
    assert!(rows.iter().all(|r| r.len() == side));
    // Light modules are drawn: the top half of a row is the upper module.
    let lit = |x: usize, y: usize| {
        matches!(rows[y / 2][x], '█') || matches!((y % 2, rows[y / 2][x]), (0, '▀') | (1, '▄'))
    };
    let colors = code.to_colors();
    for y in 0..side {
        for x in 0..side {
            let inside = (4..side - 4).contains(&x) && (4..side - 4).contains(&y);
            let dark = inside && colors[(y - 4) * code.width() + (x - 4)] == qrcode::Color::Dark;
            assert_eq!(lit(x, y), !dark, "module ({x}, {y})");
        }
    }
}

#[test]
fn the_png_is_a_grayscale_image_of_eight_pixels_per_module() {
    let text = client().render().unwrap();
    let png_bytes = qr_png(&text).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    let side = qrcode::QrCode::new(text.as_bytes()).unwrap().width() as u32 + 8;
    assert_eq!((frame.width, frame.height), (side * 8, side * 8));
    assert_eq!(frame.color_type, png::ColorType::Grayscale);
    assert!(pixels.iter().all(|p| *p == 0 || *p == 255));
    assert_eq!(pixels[0], 255, "the quiet zone is white");
    assert_eq!(
        pixels[(32 * side * 8 + 32) as usize],
        0,
        "the finder pattern's corner is black"
    );
}

#[test]
fn a_config_too_long_for_a_qr_code_is_refused() {
    let e = qr_png(&"x".repeat(3000)).unwrap_err().to_string();
    assert!(e.starts_with("QR code: "), "{e}");
}

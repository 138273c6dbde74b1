//! The server's `wg0.conf` (for `wg-quick`) and the clients' configs (for
//! `wg-quick` or the mobile apps).

use super::{Error, PresharedKey, PrivateKey, PublicKey, Result};
use ipnet::{IpNet, Ipv4Net};
use serde::Deserialize;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

/// Seconds between the keepalives a client sends, so the NAT in front of it
/// keeps the path open and the server can reach it.
pub const PERSISTENT_KEEPALIVE: u16 = 25;

/// The server side of the tunnel: it forwards for the tunnel net and
/// masquerades what leaves it, so the lab sees the gateway's address.
/// Read from scripts with these field names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// The server's address with the tunnel net's prefix, e.g. `10.200.0.1/24`.
    pub address: Ipv4Net,
    /// The UDP port it listens on.
    pub listen_port: u16,
    pub private_key: PrivateKey,
    #[serde(default)]
    pub peers: Vec<ServerPeer>,
}

/// One client as the server knows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerPeer {
    /// Shown as a comment above the peer.
    pub name: String,
    pub public_key: PublicKey,
    pub preshared_key: PresharedKey,
    /// The client's address in the tunnel net (its only allowed source).
    pub address: Ipv4Addr,
}

/// A client: its address in the tunnel, the server's key and endpoint, and
/// the networks reached through the tunnel. Read from scripts with these
/// field names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// The client's address in the tunnel net.
    pub address: Ipv4Addr,
    /// Name servers to use while the tunnel is up (none: keep the local ones).
    #[serde(default)]
    pub dns: Vec<IpAddr>,
    pub private_key: PrivateKey,
    pub server_public_key: PublicKey,
    pub preshared_key: PresharedKey,
    /// `HOST:PORT` of the server.
    pub endpoint: String,
    /// What goes through the tunnel, e.g. the lab's VPC block and the tunnel net.
    pub allowed_ips: Vec<IpNet>,
}

/// Whether `ip` can be a host of `net` (neither its network nor its
/// broadcast address, unless the net is that small).
pub fn is_host_of(net: &Ipv4Net, ip: Ipv4Addr) -> bool {
    net.contains(&ip) && (net.prefix_len() >= 31 || (ip != net.network() && ip != net.broadcast()))
}

impl ServerConfig {
    /// The tunnel net, e.g. `10.200.0.0/24`.
    pub fn tunnel_net(&self) -> Ipv4Net {
        self.address.trunc()
    }

    fn check(&self) -> Result<()> {
        let net = self.tunnel_net();
        let bad = |what: String| Err(Error::Config(format!("WireGuard server: {what}")));
        if !is_host_of(&net, self.address.addr()) {
            return bad(format!("{} is not a host address of {net}", self.address));
        }
        let mut addresses = HashSet::from([self.address.addr()]);
        let mut keys = HashSet::from([self.private_key.public_key()]);
        let mut names = HashSet::new();
        for peer in &self.peers {
            let name = &peer.name;
            if name.is_empty() || name.contains(['\n', '\r']) {
                return bad(format!("peer name {name:?} must be one non-empty line"));
            }
            if !names.insert(name) {
                return bad(format!("two peers are named {name:?}"));
            }
            if !is_host_of(&net, peer.address) {
                return bad(format!(
                    "peer {name}: {} is not a host address of the tunnel net {net}",
                    peer.address
                ));
            }
            if !addresses.insert(peer.address) {
                return bad(format!("peer {name}: {} is already taken", peer.address));
            }
            if !keys.insert(peer.public_key) {
                return bad(format!("peer {name}: its public key is already used"));
            }
        }
        Ok(())
    }

    /// The `wg0.conf` text: `[Interface]` with the address, port, key and
    /// the forwarding and masquerade rules (PostUp/PostDown, run by
    /// `wg-quick`), then one `[Peer]` per client allowed its /32.
    pub fn render(&self) -> Result<String> {
        self.check()?;
        let net = self.tunnel_net();
        let forward = "iptables -A FORWARD -i %i -j ACCEPT; iptables -A FORWARD -o %i -j ACCEPT";
        let masquerade =
            format!("iptables -t nat -A POSTROUTING -s {net} ! -d {net} -j MASQUERADE");
        let mut lines = vec![
            "[Interface]".to_string(),
            format!("Address = {}", self.address),
            format!("ListenPort = {}", self.listen_port),
            format!("PrivateKey = {}", self.private_key.to_base64()),
            "PostUp = sysctl -w net.ipv4.ip_forward=1".into(),
            format!("PostUp = {forward}"),
            format!("PostUp = {masquerade}"),
            format!("PostDown = {}", forward.replace(" -A ", " -D ")),
            format!("PostDown = {}", masquerade.replace(" -A ", " -D ")),
        ];
        for peer in &self.peers {
            lines.extend([
                String::new(),
                format!("# {}", peer.name),
                "[Peer]".into(),
                format!("PublicKey = {}", peer.public_key),
                format!("PresharedKey = {}", peer.preshared_key.to_base64()),
                format!("AllowedIPs = {}/32", peer.address),
            ]);
        }
        Ok(text(lines))
    }
}

/// Lines as a file's text.
fn text(lines: Vec<String>) -> String {
    lines.into_iter().map(|l| l + "\n").collect()
}

/// Items as a config's comma-separated list.
fn list<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(T::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl ClientConfig {
    fn check(&self) -> Result<()> {
        let bad = |what: String| Err(Error::Config(format!("WireGuard client: {what}")));
        let port = self.endpoint.rsplit_once(':');
        if !port.is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok()) {
            return bad(format!("endpoint {:?} is not HOST:PORT", self.endpoint));
        }
        if self.endpoint.contains(char::is_whitespace) {
            return bad(format!("endpoint {:?} contains a space", self.endpoint));
        }
        if self.allowed_ips.is_empty() {
            return bad("no allowed IPs: nothing would go through the tunnel".into());
        }
        if self.private_key.public_key() == self.server_public_key {
            return bad("the client's key is the server's key".into());
        }
        Ok(())
    }

    /// The config text, ready for `wg-quick up` or a QR code.
    pub fn render(&self) -> Result<String> {
        self.check()?;
        let mut lines = vec![
            "[Interface]".to_string(),
            format!("Address = {}/32", self.address),
        ];
        if !self.dns.is_empty() {
            lines.push(format!("DNS = {}", list(&self.dns)));
        }
        lines.extend([
            format!("PrivateKey = {}", self.private_key.to_base64()),
            String::new(),
            "[Peer]".into(),
            format!("PublicKey = {}", self.server_public_key),
            format!("PresharedKey = {}", self.preshared_key.to_base64()),
            format!("Endpoint = {}", self.endpoint),
            format!("AllowedIPs = {}", list(&self.allowed_ips)),
            format!("PersistentKeepalive = {PERSISTENT_KEEPALIVE}"),
        ]);
        Ok(text(lines))
    }
}

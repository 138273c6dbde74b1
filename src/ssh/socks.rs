//! A SOCKS5 proxy on this machine whose connections leave from a lab node:
//! each CONNECT becomes a direct-tcpip channel over one SSH connection to
//! that node, so a name or address only the node can reach (a private API
//! endpoint, a name in the node's /etc/hosts) is reached from here. Clients
//! name it with `socks5://127.0.0.1:PORT` (kubectl's `proxy-url`,
//! `ALL_PROXY`).

use std::net::SocketAddr;
use std::sync::Arc;

use fast_socks5::server::Socks5ServerProtocol;
use fast_socks5::util::target_addr::TargetAddr;
use fast_socks5::{ReplyError, Socks5Command};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

use super::{Auth, ConnectOptions, Connection, SshError, Target};

/// The port `labrun proxy` serves a lab on unless told otherwise: the same
/// for a lab name every time (kubeconfigs name it), from 20000 to 29999,
/// below the ports Linux hands out for outgoing connections.
pub fn default_port(lab: &str) -> u16 {
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let hash = lab.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    20000 + (hash % 10000) as u16
}

/// The `proxy-url` of a lab's proxy on its default port.
pub fn proxy_url(lab: &str) -> String {
    format!("socks5://127.0.0.1:{}", default_port(lab))
}

/// The node connections leave from: reached through `route` (jump hosts
/// first), connected on first use and again when the connection dropped.
pub struct Exit {
    route: Vec<Target>,
    auth: Auth,
    opts: ConnectOptions,
    conn: Mutex<Option<Connection>>,
}

impl Exit {
    /// The node at the end of `route`.
    pub fn new(route: Vec<Target>, auth: Auth, opts: ConnectOptions) -> Exit {
        Exit {
            route,
            auth,
            opts,
            conn: Mutex::new(None),
        }
    }

    /// The connection to the node, made anew if there is none or it closed.
    pub async fn connection(&self) -> Result<Connection, SshError> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        let (node, jumps) = self.route.split_last().expect("a route ends at a node");
        let c = Connection::connect(node, jumps, &self.auth, &self.opts).await?;
        *slot = Some(c.clone());
        Ok(c)
    }
}

/// Serves SOCKS5 (no authentication, CONNECT only) on `listener` until the
/// task is dropped; each connection is handled on its own task.
pub async fn serve(listener: TcpListener, exit: Arc<Exit>) {
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let exit = exit.clone();
        tokio::spawn(async move {
            if let Err(e) = handle(socket, &exit).await {
                tracing::warn!("proxy: {e:#}");
            }
        });
    }
}

/// One client: its request read, a channel opened from the node to its
/// target, then bytes copied both ways until either side closes.
async fn handle(socket: TcpStream, exit: &Exit) -> anyhow::Result<()> {
    let (proto, command, target) = Socks5ServerProtocol::accept_no_auth(socket)
        .await?
        .read_command()
        .await?;
    if command != Socks5Command::TCPConnect {
        proto.reply_error(&ReplyError::CommandNotSupported).await?;
        anyhow::bail!("only CONNECT is served, not {command:?}");
    }
    let (host, port) = match &target {
        TargetAddr::Ip(a) => (a.ip().to_string(), a.port()),
        TargetAddr::Domain(name, port) => (name.clone(), *port),
    };
    let opened = match exit.connection().await {
        Ok(conn) => conn.open_tcp(&host, port).await,
        Err(e) => Err(e),
    };
    let channel = match opened {
        Ok(channel) => channel,
        Err(e) => {
            proto.reply_error(&ReplyError::HostUnreachable).await?;
            anyhow::bail!("cannot reach {host}:{port}: {e}");
        }
    };
    let unspecified = SocketAddr::from(([0, 0, 0, 0], 0));
    let mut client = proto.reply_success(unspecified).await?;
    let mut channel = channel;
    tokio::io::copy_bidirectional(&mut client, &mut channel).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lab_keeps_its_port_and_labs_spread_over_the_range() {
        assert_eq!(default_port("kube"), default_port("kube"));
        assert_eq!(
            proxy_url("kube"),
            format!("socks5://127.0.0.1:{}", default_port("kube"))
        );
        let ports: std::collections::BTreeSet<u16> =
            ["kube", "kube-kubeadm", "nat", "vpn", "kube2"]
                .map(default_port)
                .into();
        assert_eq!(ports.len(), 5, "{ports:?}");
        assert!(
            ports.iter().all(|p| (20000..30000).contains(p)),
            "{ports:?}"
        );
    }
}

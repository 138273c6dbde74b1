//! Connections: TCP or a direct-tcpip channel through a jump host, the SSH
//! handshake with the host key checked against the expected one, and public
//! key authentication with a key and/or the user's ssh-agent.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use russh::client::{self, AuthResult, Handle};
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::retry::{Failure, is_transient, retry};
use super::{KeyPair, PublicKey, SshError};

/// One SSH server: where it listens, who to log in as, and the host key it
/// must present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Host name or IP address, as seen from the previous hop (or from here).
    pub host: String,
    /// TCP port, usually 22.
    pub port: u16,
    /// Remote user name.
    pub user: String,
    /// The only host key accepted from this server.
    pub host_key: PublicKey,
}

impl Target {
    /// A target on port 22.
    pub fn new(host: impl Into<String>, user: impl Into<String>, host_key: PublicKey) -> Self {
        Self {
            host: host.into(),
            port: 22,
            user: user.into(),
            host_key,
        }
    }

    /// The same target on another port.
    pub fn with_port(self, port: u16) -> Self {
        Self { port, ..self }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}:{}", self.user, self.host, self.port)
    }
}

/// The identities offered to every hop: a private key, the keys of an
/// ssh-agent, or both (the key first).
#[derive(Clone, Debug, Default)]
pub struct Auth {
    /// A private key, typically the lab's user key.
    pub key: Option<KeyPair>,
    /// Path of an ssh-agent socket.
    pub agent_socket: Option<PathBuf>,
}

impl Auth {
    /// Authenticate with `key` only.
    pub fn key(key: KeyPair) -> Self {
        Self {
            key: Some(key),
            agent_socket: None,
        }
    }

    /// Also offer the keys of the ssh-agent named by `SSH_AUTH_SOCK`, if set.
    pub fn with_env_agent(self) -> Self {
        Self {
            agent_socket: std::env::var_os("SSH_AUTH_SOCK").map(PathBuf::from),
            ..self
        }
    }
}

/// How long and how hard to try while connecting.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Keep retrying transient failures (refused, reset, no answer) for this
    /// long in total, e.g. while a node boots.
    pub deadline: Duration,
    /// Give up on a single attempt (TCP connect + handshake + auth) after this.
    pub attempt_timeout: Duration,
    /// First wait between attempts; doubles each time up to `max_backoff`.
    pub initial_backoff: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
    /// Send a keepalive after this much silence; three unanswered ones close
    /// the connection, so a dead peer fails running commands and transfers.
    pub keepalive: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(300),
            attempt_timeout: Duration::from_secs(15),
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            keepalive: Duration::from_secs(15),
        }
    }
}

/// An authenticated SSH connection to one node. Cheap to clone; channels
/// (commands, transfers, further jumps) are multiplexed over it. A connection
/// made through a jump host keeps that hop's connection alive.
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

struct Inner {
    handle: Handle<Verifier>,
    name: String,
    _via: Option<Connection>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("name", &self.inner.name)
            .finish()
    }
}

impl Connection {
    /// Connects to `target` through `jumps` (first one reached directly, each
    /// next one through the previous), checking every hop's host key and
    /// retrying transient failures until `opts.deadline`.
    pub async fn connect(
        target: &Target,
        jumps: &[Target],
        auth: &Auth,
        opts: &ConnectOptions,
    ) -> Result<Self, SshError> {
        let deadline = Instant::now() + opts.deadline;
        let mut hops = jumps.iter().chain(std::iter::once(target));
        let first = hops.next().expect("the route has at least the target");
        let mut connection = Self::open(first, None, auth, opts, deadline).await?;
        for hop in hops {
            connection = Self::open(hop, Some(connection), auth, opts, deadline).await?;
        }
        Ok(connection)
    }

    /// Connects to `target` through this connection (a direct-tcpip channel),
    /// e.g. to reach many nodes over one gateway connection.
    pub async fn jump(
        &self,
        target: &Target,
        auth: &Auth,
        opts: &ConnectOptions,
    ) -> Result<Self, SshError> {
        Self::open(
            target,
            Some(self.clone()),
            auth,
            opts,
            Instant::now() + opts.deadline,
        )
        .await
    }

    /// A TCP connection made by the node to `host:port` (a name is resolved
    /// there), as a byte stream.
    pub async fn open_tcp(
        &self,
        host: &str,
        port: u16,
    ) -> Result<russh::ChannelStream<client::Msg>, SshError> {
        let channel = self
            .handle()
            .channel_open_direct_tcpip(host, port.into(), "127.0.0.1", 0)
            .await
            .map_err(|e| self.protocol_error(e))?;
        Ok(channel.into_stream())
    }

    /// Whether the connection is gone (the node or a jump host went away).
    pub fn is_closed(&self) -> bool {
        self.handle().is_closed()
    }

    /// The `user@host:port` this connection is logged into, for messages.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    pub(super) fn handle(&self) -> &Handle<Verifier> {
        &self.inner.handle
    }

    pub(super) fn protocol_error(&self, source: russh::Error) -> SshError {
        SshError::Protocol {
            host: self.name().to_string(),
            source,
        }
    }

    async fn open(
        target: &Target,
        via: Option<Connection>,
        auth: &Auth,
        opts: &ConnectOptions,
        deadline: Instant,
    ) -> Result<Self, SshError> {
        let config = Arc::new(client::Config {
            keepalive_interval: Some(opts.keepalive),
            ..Default::default()
        });
        let name = target.to_string();
        let handle = retry(&name, deadline, opts, || async {
            match &via {
                None => {
                    let stream = TcpStream::connect((target.host.as_str(), target.port))
                        .await
                        .map_err(|e| Failure::Transient(e.to_string()))?;
                    stream
                        .set_nodelay(true)
                        .map_err(|e| Failure::Transient(e.to_string()))?;
                    handshake(stream, target, auth, config.clone()).await
                }
                Some(jump) => {
                    let channel = jump
                        .handle()
                        .channel_open_direct_tcpip(
                            target.host.as_str(),
                            target.port.into(),
                            "127.0.0.1",
                            0,
                        )
                        .await
                        .map_err(|e| {
                            let host = format!("{} (forwarding to {name})", jump.name());
                            if jump.handle().is_closed() {
                                // The jump host's connection is gone: no retry can help.
                                Failure::Fatal(SshError::Protocol { host, source: e })
                            } else {
                                transient_or_fatal(e, &host)
                            }
                        })?;
                    handshake(channel.into_stream(), target, auth, config.clone()).await
                }
            }
        })
        .await?;
        Ok(Self {
            inner: Arc::new(Inner {
                handle,
                name,
                _via: via,
            }),
        })
    }
}

/// Runs the SSH handshake on `stream` and authenticates.
async fn handshake<S>(
    stream: S,
    target: &Target,
    auth: &Auth,
    config: Arc<client::Config>,
) -> Result<Handle<Verifier>, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let verifier = Verifier {
        expected: target.host_key.clone(),
    };
    let mut handle = client::connect_stream(config, stream, verifier)
        .await
        .map_err(|e| match e {
            HandshakeError::Russh(e) => transient_or_fatal(e, &target.to_string()),
            HandshakeError::Mismatch { presented } => Failure::Fatal(SshError::HostKeyMismatch {
                host: target.to_string(),
                expected: target.host_key.fingerprint(),
                presented,
            }),
        })?;
    authenticate(&mut handle, target, auth).await?;
    Ok(handle)
}

fn transient_or_fatal(error: russh::Error, host: &str) -> Failure {
    if is_transient(&error) {
        Failure::Transient(error.to_string())
    } else {
        Failure::Fatal(SshError::Protocol {
            host: host.to_string(),
            source: error,
        })
    }
}

/// Offers the key, then each agent identity, until the server accepts one.
async fn authenticate(
    handle: &mut Handle<Verifier>,
    target: &Target,
    auth: &Auth,
) -> Result<(), Failure> {
    let host = target.to_string();
    let mut tried = Vec::new();
    if let Some(key) = &auth.key {
        let key_with_alg = PrivateKeyWithHashAlg::new(Arc::new(key.private().clone()), None);
        let result = handle
            .authenticate_publickey(&target.user, key_with_alg)
            .await
            .map_err(|e| transient_or_fatal(e, &host))?;
        if result.success() {
            return Ok(());
        }
        tried.push(format!("key {}", key.public_key().fingerprint()));
    }
    if let Some(socket) = &auth.agent_socket {
        match AgentClient::connect_uds(socket).await {
            Err(e) => tried.push(format!("ssh-agent at {}: {e}", socket.display())),
            Ok(mut agent) => {
                let identities = agent.request_identities().await.unwrap_or_default();
                for identity in identities {
                    let AgentIdentity::PublicKey { key, .. } = identity else {
                        continue;
                    };
                    let fingerprint = PublicKey::from(key.clone()).fingerprint();
                    let hash_alg = handle
                        .best_supported_rsa_hash()
                        .await
                        .map_err(|e| transient_or_fatal(e, &host))?
                        .flatten();
                    match handle
                        .authenticate_publickey_with(&target.user, key, hash_alg, &mut agent)
                        .await
                    {
                        Ok(AuthResult::Success) => return Ok(()),
                        Ok(AuthResult::Failure { .. }) => {
                            tried.push(format!("agent key {fingerprint}"))
                        }
                        Err(e) => tried.push(format!("agent key {fingerprint}: {e}")),
                    }
                }
            }
        }
    }
    Err(Failure::Fatal(SshError::AuthRejected {
        host,
        user: target.user.clone(),
        tried: if tried.is_empty() {
            "no identity configured".into()
        } else {
            tried.join(", ")
        },
    }))
}

/// The russh handler: accepts exactly the expected host key.
pub(super) struct Verifier {
    expected: PublicKey,
}

/// Why a handshake failed: russh's own errors, or our host key check.
#[derive(Debug)]
pub(super) enum HandshakeError {
    Russh(russh::Error),
    Mismatch { presented: String },
}

impl From<russh::Error> for HandshakeError {
    fn from(error: russh::Error) -> Self {
        Self::Russh(error)
    }
}

impl client::Handler for Verifier {
    type Error = HandshakeError;

    async fn check_server_key(
        &mut self,
        presented: &PublicKeyOrCertificate,
    ) -> Result<bool, HandshakeError> {
        match presented {
            PublicKeyOrCertificate::PublicKey { key, .. } => {
                let key = PublicKey::from(key.clone());
                if key == self.expected {
                    Ok(true)
                } else {
                    Err(HandshakeError::Mismatch {
                        presented: key.fingerprint(),
                    })
                }
            }
            PublicKeyOrCertificate::Certificate(cert) => Err(HandshakeError::Mismatch {
                presented: format!(
                    "a certificate for {}",
                    cert.public_key().fingerprint(HashAlg::Sha256)
                ),
            }),
        }
    }
}

//! The one error type of the SSH module.

use std::time::Duration;

/// Everything that can go wrong while handling keys or talking to a node.
/// Each variant names the host it concerns, so a message stands on its own.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    /// Key text that could not be parsed or produced.
    #[error("invalid {what}: {reason}")]
    Key { what: &'static str, reason: String },

    /// The server presented a host key other than the one expected for it.
    #[error(
        "host key mismatch for {host}: expected {expected}, server presented {presented}; \
         refusing to connect"
    )]
    HostKeyMismatch {
        host: String,
        expected: String,
        presented: String,
    },

    /// No connection could be made before the deadline (node down or still
    /// booting, port closed, route missing).
    #[error("could not reach {host} within {} s: {last}", waited.as_secs_f64().round())]
    ConnectTimeout {
        host: String,
        waited: Duration,
        last: String,
    },

    /// The server accepted none of the offered identities.
    #[error("{host} refused authentication as {user} (tried: {tried})")]
    AuthRejected {
        host: String,
        user: String,
        tried: String,
    },

    /// A protocol or transport error on an established connection.
    #[error("SSH error with {host}: {source}")]
    Protocol {
        host: String,
        #[source]
        source: russh::Error,
    },

    /// A remote command ran past its timeout and was abandoned.
    #[error("command on {host} timed out after {} s: {command}", after.as_secs_f64().round())]
    CommandTimeout {
        host: String,
        command: String,
        after: Duration,
    },

    /// A file transfer's remote side failed.
    #[error("{action} on {host} failed ({status}): {stderr}")]
    Transfer {
        host: String,
        action: String,
        status: String,
        stderr: String,
    },
}

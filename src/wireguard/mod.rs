//! WireGuard for lab gateways: X25519 keys and preshared keys made in
//! process (base64, as `wg genkey`/`wg genpsk` print them), the server's
//! `wg0.conf` and the clients' configs, and QR codes of a config for the
//! terminal or as a PNG. Private and preshared keys never show in `Debug`
//! output.

mod config;
mod keys;
mod qr;

#[cfg(test)]
mod tests;

pub use config::{ClientConfig, PERSISTENT_KEEPALIVE, ServerConfig, ServerPeer, is_host_of};
pub use keys::{PresharedKey, PrivateKey, PublicKey};
pub use qr::{qr_png, qr_terminal};

/// Everything that can go wrong with WireGuard keys, configs and QR codes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Text that is not a base64 WireGuard key.
    #[error("invalid WireGuard {what}: {reason}")]
    Key { what: &'static str, reason: String },
    /// A config that would not work as asked.
    #[error("{0}")]
    Config(String),
    /// A config too long for a QR code, or a PNG that could not be written.
    #[error("QR code: {0}")]
    Qr(String),
}

/// Results of this module.
pub type Result<T> = std::result::Result<T, Error>;

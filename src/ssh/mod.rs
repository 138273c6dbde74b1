//! SSH to lab nodes: Ed25519 keys, a client on russh that reaches nodes through
//! jump hosts and checks every host key against one known in advance, command
//! execution, file transfer, and the `ssh_config`/`known_hosts` files handed to
//! the user.
//!
//! Nothing is ever trusted on first use: each [`Target`] carries the host key
//! labrun generated for that node, and a server presenting another key is
//! refused with [`SshError::HostKeyMismatch`].

mod client;
mod config;
mod error;
mod exec;
mod keys;
mod parallel;
mod retry;
pub mod socks;
mod transfer;

#[cfg(test)]
mod tests;
#[cfg(test)]
#[path = "../../tests/common/sshd.rs"]
mod testsupport;

pub use client::{Auth, ConnectOptions, Connection, Target};
pub use config::{ConfigHost, render_known_hosts, render_ssh_config};
pub use error::SshError;
pub use exec::{Output, Stream};
pub use keys::{KeyPair, PublicKey};
pub use parallel::parallel;

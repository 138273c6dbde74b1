//! Ed25519 key pairs (user keys and host keys) and public keys, in the OpenSSH
//! text formats that `ssh-keygen`, `sshd` and `authorized_keys` use.

use std::fmt;

use russh::keys::ssh_key::{
    self, HashAlg, LineEnding, PrivateKey,
    private::{Ed25519Keypair, KeypairData},
};
use serde::{Deserialize, Serialize};

use super::SshError;

/// A private key with its public half: a lab's user key or a node's host key.
///
/// Serialized (e.g. in lab state) as OpenSSH PEM text. `Debug` shows only the
/// public fingerprint, never the secret.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyPair {
    key: PrivateKey,
}

impl KeyPair {
    /// Generates a fresh Ed25519 key from the operating system's randomness.
    pub fn generate(comment: &str) -> Result<Self, SshError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| SshError::Key {
            what: "random seed",
            reason: e.to_string(),
        })?;
        let keypair = KeypairData::Ed25519(Ed25519Keypair::from_seed(&seed));
        let key = PrivateKey::new(keypair, comment).map_err(key_error("Ed25519 key"))?;
        Ok(Self { key })
    }

    /// Parses an unencrypted OpenSSH private key
    /// (`-----BEGIN OPENSSH PRIVATE KEY-----`).
    pub fn from_openssh(pem: &str) -> Result<Self, SshError> {
        let key = PrivateKey::from_openssh(pem).map_err(key_error("OpenSSH private key"))?;
        if key.is_encrypted() {
            return Err(SshError::Key {
                what: "OpenSSH private key",
                reason: "it is encrypted with a passphrase; use ssh-agent for such keys".into(),
            });
        }
        Ok(Self { key })
    }

    /// The private key as OpenSSH PEM text, as written to
    /// `/etc/ssh/ssh_host_ed25519_key` or `~/.ssh/id_ed25519`.
    pub fn to_openssh(&self) -> String {
        self.key
            .to_openssh(LineEnding::LF)
            .map(|pem| pem.to_string())
            .expect("an in-memory unencrypted key always encodes")
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.key.public_key().clone())
    }

    pub(super) fn private(&self) -> &PrivateKey {
        &self.key
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("public", &self.public_key().fingerprint())
            .field("private", &"<redacted>")
            .finish()
    }
}

impl TryFrom<String> for KeyPair {
    type Error = SshError;
    fn try_from(pem: String) -> Result<Self, SshError> {
        Self::from_openssh(&pem)
    }
}

impl From<KeyPair> for String {
    fn from(key: KeyPair) -> String {
        key.to_openssh()
    }
}

/// A public key, e.g. `ssh-ed25519 AAAA… comment`.
///
/// Two keys are equal when their key material is; comments are ignored.
/// Serialized as its OpenSSH line.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PublicKey(ssh_key::PublicKey);

impl PublicKey {
    /// Parses an OpenSSH public key line (`authorized_keys` / `.pub` format).
    pub fn from_openssh(line: &str) -> Result<Self, SshError> {
        ssh_key::PublicKey::from_openssh(line.trim())
            .map(Self)
            .map_err(key_error("OpenSSH public key"))
    }

    /// The OpenSSH line, with the comment when there is one.
    pub fn to_openssh(&self) -> String {
        self.0
            .to_openssh()
            .expect("an in-memory public key always encodes")
    }

    /// `ALGORITHM BASE64` without the comment, as in `known_hosts`.
    pub fn to_openssh_bare(&self) -> String {
        Self(ssh_key::PublicKey::new(self.0.key_data().clone(), "")).to_openssh()
    }

    /// The SHA-256 fingerprint as `ssh-keygen -l` prints it (`SHA256:…`).
    pub fn fingerprint(&self) -> String {
        self.0.fingerprint(HashAlg::Sha256).to_string()
    }
}

impl From<ssh_key::PublicKey> for PublicKey {
    fn from(key: ssh_key::PublicKey) -> Self {
        Self(key)
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.key_data() == other.0.key_data()
    }
}

impl Eq for PublicKey {}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_openssh())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_openssh())
    }
}

impl TryFrom<String> for PublicKey {
    type Error = SshError;
    fn try_from(line: String) -> Result<Self, SshError> {
        Self::from_openssh(&line)
    }
}

impl From<PublicKey> for String {
    fn from(key: PublicKey) -> String {
        key.to_openssh()
    }
}

fn key_error(what: &'static str) -> impl Fn(ssh_key::Error) -> SshError {
    move |e| SshError::Key {
        what,
        reason: e.to_string(),
    }
}

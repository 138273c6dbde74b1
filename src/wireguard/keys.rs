//! Curve25519 key pairs and preshared keys in WireGuard's text form: 32
//! bytes as standard base64 (44 characters).

use super::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use std::fmt;

/// 32 bytes from base64 text.
fn decode(what: &'static str, text: &str) -> Result<[u8; 32]> {
    let bytes = STANDARD.decode(text.trim()).map_err(|e| Error::Key {
        what,
        reason: e.to_string(),
    })?;
    bytes.try_into().map_err(|b: Vec<u8>| Error::Key {
        what,
        reason: format!("{} bytes instead of 32", b.len()),
    })
}

/// Serde as base64 text for a key type with `from_base64` and `to_base64`.
macro_rules! base64_text {
    ($($ty:ident),*) => {$(
        impl TryFrom<String> for $ty {
            type Error = Error;
            fn try_from(text: String) -> Result<$ty> {
                $ty::from_base64(&text)
            }
        }

        impl From<$ty> for String {
            fn from(key: $ty) -> String {
                key.to_base64()
            }
        }
    )*};
}

base64_text!(PrivateKey, PublicKey, PresharedKey);

/// 32 bytes of the operating system's randomness.
fn random(what: &'static str) -> Result<[u8; 32]> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Key {
        what,
        reason: format!("no randomness: {e}"),
    })?;
    Ok(bytes)
}

/// A private key; its public half is derived. Serialized as base64.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PrivateKey(x25519_dalek::StaticSecret);

impl PrivateKey {
    /// A fresh key from the operating system's randomness, clamped as
    /// `wg genkey` clamps it.
    pub fn generate() -> Result<PrivateKey> {
        let mut bytes = random("private key")?;
        bytes[0] &= 248;
        bytes[31] &= 127;
        bytes[31] |= 64;
        Ok(PrivateKey(bytes.into()))
    }

    /// Parses the base64 text of a private key.
    pub fn from_base64(text: &str) -> Result<PrivateKey> {
        decode("private key", text).map(|b| PrivateKey(b.into()))
    }

    /// The base64 text, as in a config's `PrivateKey =` line.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0.as_bytes())
    }

    /// The public half, as `wg pubkey` derives it.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(x25519_dalek::PublicKey::from(&self.0).to_bytes())
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PrivateKey(public {}, private <redacted>)",
            self.public_key()
        )
    }
}

/// A public key; `Display` gives its base64 text. Serialized as base64.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// Parses the base64 text of a public key.
    pub fn from_base64(text: &str) -> Result<PublicKey> {
        decode("public key", text).map(PublicKey)
    }

    /// The base64 text, as in a config's `PublicKey =` line.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

/// A symmetric key one client shares with the server (`PresharedKey =`),
/// mixed into the handshake on top of the key pairs. Serialized as base64.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PresharedKey([u8; 32]);

impl PresharedKey {
    /// A fresh key from the operating system's randomness, as `wg genpsk`.
    pub fn generate() -> Result<PresharedKey> {
        random("preshared key").map(PresharedKey)
    }

    /// Parses the base64 text of a preshared key.
    pub fn from_base64(text: &str) -> Result<PresharedKey> {
        decode("preshared key", text).map(PresharedKey)
    }

    /// The base64 text, as in a config's `PresharedKey =` line.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }
}

impl fmt::Debug for PresharedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PresharedKey(<redacted>)")
    }
}

//! Keys, certificates and kubeconfigs made in process.
//!
//! A lab declares its PKI as data ([`SetSpec`]: named keys and certificates,
//! each certificate naming its issuer); [`generate_set`] turns that into
//! [`Material`], reusing whatever the lab's state already holds and
//! generating the missing keys in parallel. Material is serde-serializable
//! (PEM strings) so it can live in the lab state; private keys never show in
//! `Debug` output.

/// A fieldless enum whose variants have one name, used by serde (data from
/// Lua), by `Display` and by `name()`.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $ty:ident {
            $($(#[$vmeta:meta])* $variant:ident = $name:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        pub enum $ty {
            $($(#[$vmeta])* #[serde(rename = $name)] $variant,)*
        }

        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &[$ty] = &[$($ty::$variant,)*];

            /// The name used in data and summaries.
            pub fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)*
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

mod cert;
mod der;
mod key;
mod kubeconfig;
mod set;
mod summary;

#[cfg(test)]
mod tests;

pub use cert::{Ca, CertSpec, Certificate, ExtendedKeyUsage, KeyUsage};
pub use key::{KeySpec, PrivateKey};
pub use kubeconfig::Kubeconfig;
pub use set::{Generated, Material, SetSpec, generate_set};
pub use summary::{Summary, expiration_table};

use sha2::{Digest, Sha256};

/// Everything that can go wrong while making or reading PKI material.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not PEM, or not the PEM block that was expected.
    #[error("invalid PEM: {0}")]
    Pem(String),
    /// A key of a kind labrun does not handle.
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),
    /// A certificate that cannot be parsed or used as asked.
    #[error("invalid certificate: {0}")]
    Certificate(String),
    /// A certificate request that cannot be satisfied.
    #[error("{name}: {reason}")]
    Spec {
        /// The name of the entry in the set.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// rcgen refused to generate a key or certificate.
    #[error(transparent)]
    Rcgen(#[from] rcgen::Error),
}

/// The result type of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `sha256:<hex>` of some DER, the format kubeadm uses for CA key hashes.
fn fingerprint(der: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(der)))
}

/// The time in Unix seconds.
fn now() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX)
}

/// PEM with LF line endings, as openssl writes it.
fn pem_encode(tag: &str, der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(tag, der), config)
}

/// The DER contents of every `tag` block of `text`; at least one is required.
fn pem_decode_all(text: &str, tag: &str) -> Result<Vec<Vec<u8>>> {
    let blocks = pem::parse_many(text).map_err(|e| Error::Pem(e.to_string()))?;
    if blocks.is_empty() {
        return Err(Error::Pem(format!("no {tag} block found")));
    }
    blocks
        .into_iter()
        .map(|block| match block.tag() {
            t if t == tag => Ok(block.into_contents()),
            other => Err(Error::Pem(format!("expected {tag}, found {other}"))),
        })
        .collect()
}

/// The DER contents of the single `tag` block of `text`.
fn pem_decode(text: &str, tag: &str) -> Result<Vec<u8>> {
    let mut blocks = pem_decode_all(text, tag)?;
    match blocks.len() {
        1 => Ok(blocks.remove(0)),
        n => Err(Error::Pem(format!("expected one {tag} block, found {n}"))),
    }
}

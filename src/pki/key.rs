//! Key pairs: generation (in parallel for many), PEM in and out, fingerprints.

use std::fmt;
use std::num::NonZero;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rcgen::{KeyPair, PublicKeyData, RsaKeySize};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use x509_parser::oid_registry::{OID_EC_P256, OID_SIG_ED25519};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::{Error, Result, fingerprint, pem_decode, pem_encode};

named_enum! {
    /// The kind of a key pair; in data it is spelled `rsa-2048`,
    /// `rsa-3072`, `rsa-4096`, `ecdsa-p256` or `ed25519`.
    #[derive(Default)]
    pub enum KeySpec {
        /// RSA, 2048-bit modulus (kubeadm's default).
        #[default]
        Rsa2048 = "rsa-2048",
        /// RSA, 3072-bit modulus.
        Rsa3072 = "rsa-3072",
        /// RSA, 4096-bit modulus.
        Rsa4096 = "rsa-4096",
        /// ECDSA on NIST P-256, signing with SHA-256.
        EcdsaP256 = "ecdsa-p256",
        /// Ed25519.
        Ed25519 = "ed25519",
    }
}

impl KeySpec {
    /// The kind of the public key in a SubjectPublicKeyInfo.
    pub(super) fn of_spki(spki: &SubjectPublicKeyInfo) -> Result<KeySpec> {
        let alg = &spki.algorithm;
        match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => match rsa.key_size() {
                2048 => Ok(KeySpec::Rsa2048),
                3072 => Ok(KeySpec::Rsa3072),
                4096 => Ok(KeySpec::Rsa4096),
                bits => Err(Error::UnsupportedKey(format!("RSA with {bits} bits"))),
            },
            Ok(PublicKey::EC(_))
                if alg.parameters.as_ref().and_then(|p| p.as_oid().ok()) == Some(OID_EC_P256) =>
            {
                Ok(KeySpec::EcdsaP256)
            }
            _ if alg.algorithm == OID_SIG_ED25519 => Ok(KeySpec::Ed25519),
            _ => Err(Error::UnsupportedKey(format!(
                "algorithm {} (parameters {:?})",
                alg.algorithm, alg.parameters
            ))),
        }
    }

    /// Rough relative cost of generating one key, for scheduling.
    fn cost(self) -> u32 {
        match self {
            KeySpec::Rsa4096 => 460,
            KeySpec::Rsa3072 => 150,
            KeySpec::Rsa2048 => 50,
            KeySpec::EcdsaP256 | KeySpec::Ed25519 => 1,
        }
    }
}

/// A private key (with its public half). Cheap to clone; `Debug` shows only
/// its kind and public fingerprint; serde reads and writes PKCS#8 PEM.
#[derive(Clone)]
pub struct PrivateKey {
    spec: KeySpec,
    pair: Arc<KeyPair>,
}

impl PrivateKey {
    /// Generates a fresh key pair.
    pub fn generate(spec: KeySpec) -> Result<Self> {
        let rsa = |size| KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, size);
        let pair = match spec {
            KeySpec::Rsa2048 => rsa(RsaKeySize::_2048),
            KeySpec::Rsa3072 => rsa(RsaKeySize::_3072),
            KeySpec::Rsa4096 => rsa(RsaKeySize::_4096),
            KeySpec::EcdsaP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
            KeySpec::Ed25519 => KeyPair::generate_for(&rcgen::PKCS_ED25519),
        }?;
        let pair = match pkcs8_v1(pair.serialized_der())? {
            Some(v1) => KeyPair::try_from(v1)?,
            None => pair,
        };
        Ok(PrivateKey {
            spec,
            pair: Arc::new(pair),
        })
    }

    /// Reads a PKCS#8 `PRIVATE KEY` PEM block (what [`Self::to_pem`] and
    /// `openssl genpkey` write).
    pub fn from_pem(text: &str) -> Result<Self> {
        let der = pem_decode(text, "PRIVATE KEY").map_err(|e| {
            Error::Pem(format!(
                "{e} (only unencrypted PKCS#8 is read: `openssl pkcs8 -topk8 -nocrypt` converts)"
            ))
        })?;
        let pair = KeyPair::try_from(pkcs8_v1(&der)?.unwrap_or(der))?;
        let spki_der = pair.subject_public_key_info();
        let spec = KeySpec::of_spki(&parse_spki(&spki_der)?)?;
        Ok(PrivateKey {
            spec,
            pair: Arc::new(pair),
        })
    }

    /// The kind of this key.
    pub fn spec(&self) -> KeySpec {
        self.spec
    }

    /// The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn to_pem(&self) -> String {
        pem_encode("PRIVATE KEY", self.pair.serialized_der())
    }

    /// The public key as DER SubjectPublicKeyInfo.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.pair.subject_public_key_info()
    }

    /// The public key as PEM (`-----BEGIN PUBLIC KEY-----`), e.g. `sa.pub`.
    pub fn public_key_pem(&self) -> String {
        pem_encode("PUBLIC KEY", &self.public_key_der())
    }

    /// `sha256:<hex>` of the DER public key, as kubeadm's
    /// `--discovery-token-ca-cert-hash` and `openssl pkey -pubout -outform
    /// DER | sha256sum`.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.public_key_der())
    }

    /// The rcgen key pair, for signing.
    pub(super) fn pair(&self) -> &KeyPair {
        &self.pair
    }
}

/// The PKCS#8 v1 form of a v2 document (RFC 5958, with the public key,
/// as aws-lc makes Ed25519 keys), which openssl 3.0 cannot read; `None`
/// when `der` is v1 already.
fn pkcs8_v1(der: &[u8]) -> Result<Option<Vec<u8>>> {
    const VERSION_2: &[u8] = &[0x02, 0x01, 0x01];
    let fields = yasna::parse_der(der, |r| r.collect_sequence_of(|r| r.read_der()))
        .map_err(|e| Error::Pem(format!("PKCS#8: {e}")))?;
    match fields.as_slice() {
        [version, algorithm, key, ..] if version == VERSION_2 => {
            Ok(Some(yasna::construct_der(|w| {
                w.write_sequence(|w| {
                    w.next().write_u8(0);
                    w.next().write_der(algorithm);
                    w.next().write_der(key);
                })
            })))
        }
        _ => Ok(None),
    }
}

/// Parses a DER SubjectPublicKeyInfo.
fn parse_spki(der: &[u8]) -> Result<SubjectPublicKeyInfo<'_>> {
    SubjectPublicKeyInfo::from_der(der)
        .map(|(_, spki)| spki)
        .map_err(|e| Error::UnsupportedKey(e.to_string()))
}

/// Generates one key per spec, biggest first, on as many threads as there
/// are cores; the keys come back in the order of `specs`.
pub(super) fn generate_many(specs: &[KeySpec]) -> Result<Vec<PrivateKey>> {
    let mut order: Vec<usize> = (0..specs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(specs[i].cost()));
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(1, NonZero::get)
        .min(specs.len());
    let mut done: Vec<(usize, Result<PrivateKey>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut made = Vec::new();
                    while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                        made.push((i, PrivateKey::generate(specs[i])));
                    }
                    made
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, key)| key).collect()
}

impl PartialEq for PrivateKey {
    fn eq(&self, other: &Self) -> bool {
        self.pair.serialized_der() == other.pair.serialized_der()
    }
}

impl Eq for PrivateKey {}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("spec", &self.spec)
            .field("public", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

impl Serialize for PrivateKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_pem())
    }
}

impl<'de> Deserialize<'de> for PrivateKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pem = String::deserialize(deserializer)?;
        PrivateKey::from_pem(&pem).map_err(serde::de::Error::custom)
    }
}

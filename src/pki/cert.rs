//! Certificates: the declarative request, issuing (self-signed or by a CA),
//! PEM in and out.

use std::fmt;
use std::net::IpAddr;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyUsagePurpose, SanType, SerialNumber,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use super::der::{self, Signer};
use super::{
    Error, KeySpec, PrivateKey, Result, Summary, fingerprint, now, pem_decode, pem_encode,
};

/// Seconds a certificate's validity starts before it is made, against clock
/// skew between the machine that makes it and the nodes (kubeadm backdates
/// too).
const BACKDATE_SECS: i64 = 5 * 60;
const DAY_SECS: i64 = 24 * 60 * 60;

named_enum! {
    /// A purpose of the key (X.509 key usage), in the bit order of the
    /// extension; in data e.g. `digital-signature`.
    pub enum KeyUsage {
        /// digitalSignature
        DigitalSignature = "digital-signature",
        /// contentCommitment (formerly nonRepudiation)
        ContentCommitment = "content-commitment",
        /// keyEncipherment
        KeyEncipherment = "key-encipherment",
        /// dataEncipherment
        DataEncipherment = "data-encipherment",
        /// keyAgreement
        KeyAgreement = "key-agreement",
        /// keyCertSign
        CertSign = "cert-sign",
        /// cRLSign
        CrlSign = "crl-sign",
        /// encipherOnly
        EncipherOnly = "encipher-only",
        /// decipherOnly
        DecipherOnly = "decipher-only",
    }
}

impl KeyUsage {
    fn rcgen(self) -> KeyUsagePurpose {
        match self {
            KeyUsage::DigitalSignature => KeyUsagePurpose::DigitalSignature,
            KeyUsage::ContentCommitment => KeyUsagePurpose::ContentCommitment,
            KeyUsage::KeyEncipherment => KeyUsagePurpose::KeyEncipherment,
            KeyUsage::DataEncipherment => KeyUsagePurpose::DataEncipherment,
            KeyUsage::KeyAgreement => KeyUsagePurpose::KeyAgreement,
            KeyUsage::CertSign => KeyUsagePurpose::KeyCertSign,
            KeyUsage::CrlSign => KeyUsagePurpose::CrlSign,
            KeyUsage::EncipherOnly => KeyUsagePurpose::EncipherOnly,
            KeyUsage::DecipherOnly => KeyUsagePurpose::DecipherOnly,
        }
    }
}

named_enum! {
    /// An extended key usage; in data `server`, `client`, ...
    pub enum ExtendedKeyUsage {
        /// TLS server authentication.
        Server = "server",
        /// TLS client authentication.
        Client = "client",
        /// anyExtendedKeyUsage
        Any = "any",
        /// Code signing.
        CodeSigning = "code-signing",
        /// E-mail protection.
        EmailProtection = "email-protection",
        /// Time stamping.
        TimeStamping = "time-stamping",
        /// OCSP signing.
        OcspSigning = "ocsp-signing",
    }
}

impl ExtendedKeyUsage {
    fn rcgen(self) -> ExtendedKeyUsagePurpose {
        match self {
            ExtendedKeyUsage::Server => ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsage::Client => ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsage::Any => ExtendedKeyUsagePurpose::Any,
            ExtendedKeyUsage::CodeSigning => ExtendedKeyUsagePurpose::CodeSigning,
            ExtendedKeyUsage::EmailProtection => ExtendedKeyUsagePurpose::EmailProtection,
            ExtendedKeyUsage::TimeStamping => ExtendedKeyUsagePurpose::TimeStamping,
            ExtendedKeyUsage::OcspSigning => ExtendedKeyUsagePurpose::OcspSigning,
        }
    }
}

/// A certificate (and its key) as data, the way a lab script declares it.
/// Missing fields take kubeadm's defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertSpec {
    /// Kind of the certificate's key.
    #[serde(default)]
    pub key: KeySpec,
    /// Subject common name (a Kubernetes user name).
    pub cn: String,
    /// Subject organizations (Kubernetes groups), in order.
    #[serde(default)]
    pub o: Vec<String>,
    /// DNS subject alternative names.
    #[serde(default)]
    pub dns: Vec<String>,
    /// IP subject alternative names.
    #[serde(default)]
    pub ips: Vec<IpAddr>,
    /// Key usages; by default digital-signature and key-encipherment, plus
    /// cert-sign for a CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usages: Option<Vec<KeyUsage>>,
    /// Extended key usages.
    #[serde(default)]
    pub ekus: Vec<ExtendedKeyUsage>,
    /// Whether this is a CA.
    #[serde(default)]
    pub ca: bool,
    /// Path length constraint of a CA (how many CAs may follow it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_len: Option<u8>,
    /// Days of validity; by default 3650 for a CA and 365 otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    /// Start of validity in Unix seconds; by default five minutes ago.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
    /// Name of the issuing CA within a [`SetSpec`](super::SetSpec); none
    /// for a self-signed certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

impl CertSpec {
    /// The key usages the certificate gets.
    pub fn key_usages(&self) -> Vec<KeyUsage> {
        self.usages.clone().unwrap_or_else(|| {
            let mut usages = vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment];
            if self.ca {
                usages.push(KeyUsage::CertSign);
            }
            usages
        })
    }

    /// Days of validity the certificate gets.
    pub fn validity_days(&self) -> u32 {
        self.days.unwrap_or(if self.ca { 3650 } else { 365 })
    }

    /// What is wrong with this request on its own, if anything.
    pub(super) fn problem(&self) -> Option<String> {
        if self.cn.is_empty() {
            Some("empty common name (cn)".into())
        } else if self.path_len.is_some() && !self.ca {
            Some("path_len is for CAs only".into())
        } else if self.validity_days() == 0 {
            Some("zero days of validity".into())
        } else {
            None
        }
    }

    /// Whether an existing certificate says what this request asks for (its
    /// validity aside, as long as it has not run out).
    pub(super) fn is_met_by(&self, summary: &Summary) -> bool {
        fn same<T: Ord + Clone>(a: &[T], b: &[T]) -> bool {
            let (mut a, mut b) = (a.to_vec(), b.to_vec());
            a.sort();
            b.sort();
            a == b
        }
        summary.cn == self.cn
            && summary.o == self.o
            && summary.key == Some(self.key)
            && same(&summary.dns, &self.dns)
            && same(&summary.ips, &self.ips)
            && same(&summary.usages, &self.key_usages())
            && same(&summary.ekus, &self.ekus)
            && summary.is_ca == self.ca
            && summary.path_len == self.path_len.map(u32::from)
            && summary.days_left > 0
    }

    /// A self-signed certificate for `key` (the request's `issuer` is not
    /// looked at).
    pub fn self_signed(&self, key: &PrivateKey) -> Result<Certificate> {
        self.issue(key, None)
    }

    fn issue(&self, key: &PrivateKey, signer: Option<Signer<'_>>) -> Result<Certificate> {
        if let Some(problem) = self.problem() {
            return Err(Error::Certificate(problem));
        }
        if key.spec() != self.key {
            return Err(Error::Certificate(format!(
                "the request is for a {} key, the key given is {}",
                self.key,
                key.spec()
            )));
        }
        let subject = der::name(&self.cn, &self.o);
        Certificate::from_der(der::issue(self.params()?, &subject, key.pair(), signer)?)
    }

    /// rcgen's parameters for everything but the names.
    fn params(&self) -> Result<CertificateParams> {
        let not_before = self.not_before.unwrap_or_else(|| now() - BACKDATE_SECS);
        let not_after = not_before + i64::from(self.validity_days()) * DAY_SECS;
        let timestamp = |secs| {
            OffsetDateTime::from_unix_timestamp(secs)
                .map_err(|e| Error::Certificate(format!("validity: {e}")))
        };
        let mut params = CertificateParams::default();
        // Replaced by the real names; rcgen only needs to know the subject
        // is not empty (or it marks the SANs critical).
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, &self.cn);
        params.not_before = timestamp(not_before)?;
        params.not_after = timestamp(not_after)?;
        params.serial_number = Some(random_serial()?);
        params.subject_alt_names = self
            .dns
            .iter()
            .map(|dns| Ok(SanType::DnsName(dns.clone().try_into()?)))
            .chain(self.ips.iter().map(|ip| Ok(SanType::IpAddress(*ip))))
            .collect::<Result<_>>()?;
        params.is_ca = match (self.ca, self.path_len) {
            (false, _) => IsCa::ExplicitNoCa,
            (true, None) => IsCa::Ca(BasicConstraints::Unconstrained),
            (true, Some(n)) => IsCa::Ca(BasicConstraints::Constrained(n)),
        };
        params.key_usages = self.key_usages().iter().map(|u| u.rcgen()).collect();
        params.extended_key_usages = self.ekus.iter().map(|e| e.rcgen()).collect();
        Ok(params)
    }
}

/// A positive random 128-bit serial number.
fn random_serial() -> Result<SerialNumber> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| Error::Certificate("no randomness for a serial number".into()))?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

/// An X.509 certificate (DER that is known to parse). Serde reads and
/// writes PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
}

impl Certificate {
    /// Takes DER, checking that it parses as a certificate.
    pub fn from_der(der: Vec<u8>) -> Result<Self> {
        parse(&der)?;
        Ok(Certificate { der })
    }

    /// Reads one `CERTIFICATE` PEM block.
    pub fn from_pem(text: &str) -> Result<Self> {
        Self::from_der(pem_decode(text, "CERTIFICATE")?)
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// PEM (`-----BEGIN CERTIFICATE-----`).
    pub fn to_pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.der)
    }

    /// `sha256:<hex>` of the DER certificate (`openssl x509 -fingerprint
    /// -sha256` prints the same digest in upper case with colons).
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.der)
    }

    /// Whether this certificate is for `key` (holds its public half).
    pub fn is_for(&self, key: &PrivateKey) -> bool {
        self.parsed().public_key().raw == key.public_key_der()
    }

    /// A readable account of the certificate, as of now.
    pub fn summary(&self) -> Summary {
        Summary::of(&self.parsed(), &self.der, now())
    }

    /// The parsed certificate.
    pub(super) fn parsed(&self) -> X509Certificate<'_> {
        parse(&self.der).expect("Certificate holds DER that parses")
    }
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err(Error::Certificate(
            "trailing bytes after the certificate".into(),
        )),
        Err(e) => Err(Error::Certificate(e.to_string())),
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.parsed().subject().to_string())
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

impl Serialize for Certificate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_pem())
    }
}

impl<'de> Deserialize<'de> for Certificate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pem = String::deserialize(deserializer)?;
        Certificate::from_pem(&pem).map_err(serde::de::Error::custom)
    }
}

/// A certificate authority: a CA certificate with its key, ready to sign.
#[derive(Clone, Debug)]
pub struct Ca {
    cert: Certificate,
    key: PrivateKey,
}

impl Ca {
    /// Pairs a CA certificate with its key, checking that the certificate is
    /// a CA allowed to sign certificates and that the key is its key.
    pub fn new(cert: Certificate, key: PrivateKey) -> Result<Self> {
        let parsed = cert.parsed();
        let summary = cert.summary();
        if !summary.is_ca {
            return Err(Error::Certificate(format!(
                "{} is not a CA",
                summary.subject
            )));
        }
        if parsed.key_usage().ok().flatten().is_some()
            && !summary.usages.contains(&KeyUsage::CertSign)
        {
            return Err(Error::Certificate(format!(
                "{} may not sign certificates (no cert-sign usage)",
                summary.subject
            )));
        }
        if !cert.is_for(&key) {
            return Err(Error::Certificate(format!(
                "the key given is not the key of {}",
                summary.subject
            )));
        }
        Ok(Ca { cert, key })
    }

    /// Reads a stored CA: its certificate and its PKCS#8 key, both PEM.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self> {
        Self::new(
            Certificate::from_pem(cert_pem)?,
            PrivateKey::from_pem(key_pem)?,
        )
    }

    /// Issues a certificate for `key` as `spec` says (its `issuer` is not
    /// looked at: this CA signs).
    pub fn sign(&self, spec: &CertSpec, key: &PrivateKey) -> Result<Certificate> {
        let parsed = self.cert.parsed();
        let key_id = parsed
            .iter_extensions()
            .find_map(|ext| match ext.parsed_extension() {
                x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(id) => {
                    Some(id.0.to_vec())
                }
                _ => None,
            });
        let signer = Signer {
            name: parsed.subject().as_raw(),
            key: self.key.pair(),
            key_id,
        };
        spec.issue(key, Some(signer))
    }

    /// The CA certificate.
    pub fn cert(&self) -> &Certificate {
        &self.cert
    }

    /// The CA key.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }
}

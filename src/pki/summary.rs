//! Readable accounts of certificates, for `labrun pki show` (like kubeadm's
//! `certs check-expiration`).

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use super::{ExtendedKeyUsage, KeySpec, KeyUsage, fingerprint};

const DAY_SECS: i64 = 24 * 60 * 60;

/// What a certificate says, parsed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Subject distinguished name, e.g. `O=system:masters, CN=admin`.
    pub subject: String,
    /// Subject common name (empty if none).
    pub cn: String,
    /// Subject organizations, in order.
    pub o: Vec<String>,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Kind of the certificate's key, if labrun knows it.
    pub key: Option<KeySpec>,
    /// DNS subject alternative names.
    pub dns: Vec<String>,
    /// IP subject alternative names.
    pub ips: Vec<IpAddr>,
    /// Key usages.
    pub usages: Vec<KeyUsage>,
    /// Extended key usages labrun knows.
    pub ekus: Vec<ExtendedKeyUsage>,
    /// Whether the basic constraints make it a CA.
    pub is_ca: bool,
    /// Path length constraint of a CA.
    pub path_len: Option<u32>,
    /// Serial number, hex.
    pub serial: String,
    /// Start of validity, Unix seconds (RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339")]
    pub not_before: i64,
    /// End of validity, Unix seconds (RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339")]
    pub not_after: i64,
    /// Whole days until the end of validity, negative once past it.
    pub days_left: i64,
    /// `sha256:<hex>` of the DER certificate.
    pub fingerprint: String,
}

impl Summary {
    /// The summary of a parsed certificate whose DER is `der`, as of `now`
    /// (Unix seconds).
    pub(super) fn of(cert: &X509Certificate<'_>, der: &[u8], now: i64) -> Summary {
        let mut dns = Vec::new();
        let mut ips = Vec::new();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                match name {
                    GeneralName::DNSName(name) => dns.push(name.to_string()),
                    GeneralName::IPAddress(bytes) => ips.extend(ip(bytes)),
                    _ => {}
                }
            }
        }
        let usages = match cert.key_usage() {
            Ok(Some(ku)) => (KeyUsage::ALL.iter().enumerate())
                .filter(|(bit, _)| ku.value.flags >> bit & 1 == 1)
                .map(|(_, usage)| *usage)
                .collect(),
            _ => Vec::new(),
        };
        let ekus = match cert.extended_key_usage() {
            Ok(Some(eku)) => {
                let eku = eku.value;
                [
                    (eku.server_auth, ExtendedKeyUsage::Server),
                    (eku.client_auth, ExtendedKeyUsage::Client),
                    (eku.any, ExtendedKeyUsage::Any),
                    (eku.code_signing, ExtendedKeyUsage::CodeSigning),
                    (eku.email_protection, ExtendedKeyUsage::EmailProtection),
                    (eku.time_stamping, ExtendedKeyUsage::TimeStamping),
                    (eku.ocsp_signing, ExtendedKeyUsage::OcspSigning),
                ]
                .into_iter()
                .filter_map(|(present, eku)| present.then_some(eku))
                .collect()
            }
            _ => Vec::new(),
        };
        let constraints = cert.basic_constraints().ok().flatten().map(|bc| bc.value);
        let not_after = cert.validity().not_after.timestamp();
        Summary {
            subject: cert.subject().to_string(),
            cn: strings(cert.subject().iter_common_name())
                .next()
                .unwrap_or_default(),
            o: strings(cert.subject().iter_organization()).collect(),
            issuer: cert.issuer().to_string(),
            key: KeySpec::of_spki(cert.public_key()).ok(),
            dns,
            ips,
            usages,
            ekus,
            is_ca: constraints.is_some_and(|bc| bc.ca),
            path_len: constraints.and_then(|bc| bc.path_len_constraint),
            serial: cert.raw_serial_as_string().replace(':', ""),
            not_before: cert.validity().not_before.timestamp(),
            not_after,
            days_left: (not_after - now).div_euclid(DAY_SECS),
            fingerprint: fingerprint(der),
        }
    }

    /// Time left, as kubeadm prints it: `364d`, `9y` or `expired`.
    fn residual(&self) -> String {
        match self.days_left {
            ..0 => "expired".into(),
            days @ ..730 => format!("{days}d"),
            days => format!("{}y", days / 365),
        }
    }
}

/// The string values of some name attributes.
fn strings<'a>(
    attributes: impl Iterator<Item = &'a x509_parser::x509::AttributeTypeAndValue<'a>>,
) -> impl Iterator<Item = String> {
    attributes.filter_map(|a| a.as_str().ok().map(str::to_string))
}

/// An IP SAN, which is 4 or 16 bytes.
fn ip(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// Unix seconds as RFC 3339, UTC, as labrun's `--json` gives times.
fn rfc3339<S: serde::Serializer>(secs: &i64, s: S) -> Result<S::Ok, S::Error> {
    let t = OffsetDateTime::from_unix_timestamp(*secs).map_err(serde::ser::Error::custom)?;
    let text = t
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(serde::ser::Error::custom)?;
    s.serialize_str(&text)
}

/// `2026-01-31 23:59 UTC`.
fn utc(secs: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => format!("{} {:02}:{:02} UTC", t.date(), t.hour(), t.minute()),
        Err(_) => format!("@{secs}"),
    }
}

/// A comma-separated list.
fn list<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(T::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Summary {
    /// Several lines, one per property.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sans: Vec<String> = (self.dns.iter().map(|d| format!("DNS:{d}")))
            .chain(self.ips.iter().map(|i| format!("IP:{i}")))
            .collect();
        let ca = match (self.is_ca, self.path_len) {
            (false, _) => "no".to_string(),
            (true, None) => "yes".to_string(),
            (true, Some(n)) => format!("yes, path length {n}"),
        };
        let key = self.key.map_or("other", KeySpec::name);
        writeln!(f, "subject:     {}", self.subject)?;
        writeln!(f, "issuer:      {}", self.issuer)?;
        writeln!(f, "key:         {key}")?;
        writeln!(f, "SANs:        {}", list(&sans))?;
        writeln!(f, "usages:      {}", list(&self.usages))?;
        writeln!(f, "EKUs:        {}", list(&self.ekus))?;
        writeln!(f, "CA:          {ca}")?;
        writeln!(f, "not before:  {}", utc(self.not_before))?;
        writeln!(
            f,
            "not after:   {} ({})",
            utc(self.not_after),
            self.residual()
        )?;
        writeln!(f, "serial:      {}", self.serial)?;
        writeln!(f, "fingerprint: {}", self.fingerprint)
    }
}

/// A table of named certificates with their expiry, like kubeadm's `certs
/// check-expiration`.
pub fn expiration_table<'a>(rows: impl IntoIterator<Item = (&'a str, &'a Summary)>) -> String {
    let header = ["CERTIFICATE", "EXPIRES", "RESIDUAL TIME", "KEY", "ISSUER"].map(String::from);
    let lines: Vec<[String; 5]> = std::iter::once(header)
        .chain(rows.into_iter().map(|(name, s)| {
            [
                name.to_string(),
                utc(s.not_after),
                s.residual(),
                s.key.map_or("other", KeySpec::name).to_string(),
                s.issuer.clone(),
            ]
        }))
        .collect();
    let widths: Vec<usize> = (0..5)
        .map(|col| {
            lines
                .iter()
                .map(|l| l[col].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut table = String::new();
    for line in &lines {
        let cells: Vec<String> = (line.iter().zip(&widths))
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        table.push_str(cells.join("   ").trim_end());
        table.push('\n');
    }
    table
}

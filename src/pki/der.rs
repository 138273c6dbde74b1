//! The DER work rcgen cannot do: subject names with several O attributes
//! (rcgen keeps one value per attribute type), and issuer names copied byte
//! for byte from the issuing certificate. rcgen drafts the certificate
//! unsigned; the names are put in and the result is signed here.

use rcgen::{
    CertificateParams, Issuer, KeyIdMethod, KeyPair, PublicKeyData, SignatureAlgorithm, SigningKey,
};
use yasna::models::ObjectIdentifier;

use super::{Error, Result};

const OID_COMMON_NAME: &[u64] = &[2, 5, 4, 3];
const OID_ORGANIZATION: &[u64] = &[2, 5, 4, 10];

/// Position of the issuer and subject names in a TBSCertificate (after
/// version, serial number and signature algorithm; issuer, validity, subject).
const TBS_ISSUER: usize = 3;
const TBS_SUBJECT: usize = 5;

/// DER of an X.509 Name: one RDN per organization, then the common name, as
/// Go's crypto/x509 (and so kubeadm) orders them.
pub(super) fn name(cn: &str, organizations: &[String]) -> Vec<u8> {
    let attributes = organizations
        .iter()
        .map(|o| (OID_ORGANIZATION, o.as_str()))
        .chain([(OID_COMMON_NAME, cn)]);
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            for (oid, value) in attributes {
                w.next().write_set(|w| {
                    w.next().write_sequence(|w| {
                        w.next().write_oid(&ObjectIdentifier::from_slice(oid));
                        w.next().write_utf8_string(value);
                    })
                });
            }
        })
    })
}

/// The issuing side of a certificate.
pub(super) struct Signer<'a> {
    /// DER subject name of the issuing certificate.
    pub name: &'a [u8],
    /// The issuer's key.
    pub key: &'a KeyPair,
    /// The issuer's subject key identifier, copied into the authority key
    /// identifier of what it signs.
    pub key_id: Option<Vec<u8>>,
}

/// Lends a key's public half to rcgen and signs nothing.
struct Unsigned<'a>(&'a KeyPair);

impl PublicKeyData for Unsigned<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.0.der_bytes()
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.0.algorithm()
    }
}

impl SigningKey for Unsigned<'_> {
    fn sign(&self, _: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok(Vec::new())
    }
}

/// Makes the DER certificate described by `params` (whose names are
/// replaced) for `subject_key` named `subject_name`, signed by `signer`, or
/// self-signed when there is none.
pub(super) fn issue(
    mut params: CertificateParams,
    subject_name: &[u8],
    subject_key: &KeyPair,
    signer: Option<Signer<'_>>,
) -> Result<Vec<u8>> {
    let Some(signer) = signer else {
        let draft = params.self_signed(&Unsigned(subject_key))?;
        return finish(draft.der(), subject_name, subject_name, subject_key);
    };
    params.use_authority_key_identifier_extension = signer.key_id.is_some();
    let mut issuer_params = CertificateParams::default();
    if let Some(key_id) = signer.key_id {
        issuer_params.key_identifier_method = KeyIdMethod::PreSpecified(key_id);
    }
    let issuer = Issuer::new(issuer_params, Unsigned(signer.key));
    let draft = params.signed_by(subject_key, &issuer)?;
    finish(draft.der(), signer.name, subject_name, signer.key)
}

/// Puts the names into an unsigned draft and signs it with `key`.
fn finish(draft: &[u8], issuer: &[u8], subject: &[u8], key: &KeyPair) -> Result<Vec<u8>> {
    let malformed = |e: yasna::ASN1Error| Error::Certificate(format!("rcgen draft: {e}"));
    let (tbs, algorithm) = yasna::parse_der(draft, |r| {
        r.read_sequence(|r| {
            let tbs = r.next().read_der()?;
            let algorithm = r.next().read_der()?;
            r.next().read_der()?;
            Ok((tbs, algorithm))
        })
    })
    .map_err(malformed)?;
    let mut fields =
        yasna::parse_der(&tbs, |r| r.collect_sequence_of(|r| r.read_der())).map_err(malformed)?;
    if fields.len() <= TBS_SUBJECT + 1 {
        return Err(Error::Certificate(
            "rcgen draft: short TBSCertificate".into(),
        ));
    }
    fields[TBS_ISSUER] = issuer.to_vec();
    fields[TBS_SUBJECT] = subject.to_vec();
    let tbs = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            for field in &fields {
                w.next().write_der(field);
            }
        })
    });
    let signature = key.sign(&tbs)?;
    Ok(yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_der(&tbs);
            w.next().write_der(&algorithm);
            w.next().write_bitvec_bytes(&signature, signature.len() * 8);
        })
    }))
}

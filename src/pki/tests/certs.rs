//! Certificates made with the module's API directly, checked with openssl.

use std::path::Path;

use super::super::{
    Ca, CertSpec, Certificate, ExtendedKeyUsage, KeySpec, KeyUsage, PrivateKey, expiration_table,
};
use super::{extensions, kube, openssl, subject};

fn ed25519() -> PrivateKey {
    PrivateKey::generate(KeySpec::Ed25519).unwrap()
}

fn ca_spec(cn: &str) -> CertSpec {
    CertSpec {
        key: KeySpec::Ed25519,
        cn: cn.into(),
        ca: true,
        ..CertSpec::default()
    }
}

fn write(dir: &Path, name: &str, cert: &Certificate) -> String {
    let path = dir.join(name);
    std::fs::write(&path, cert.to_pem()).unwrap();
    path.to_str().unwrap().to_string()
}

fn verify(args: &[&str]) {
    let out = openssl(&[&["verify", "-x509_strict"][..], args].concat());
    assert!(out.trim().ends_with(": OK"), "{out}");
}

#[test]
fn several_organizations_and_the_issuer_name_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = ed25519();
    let spec = CertSpec {
        o: vec!["Lab".into(), "Kubelius".into()],
        usages: crl_usages(),
        ..ca_spec("several-o-ca")
    };
    let ca = Ca::new(spec.self_signed(&ca_key).unwrap(), ca_key).unwrap();
    let key = ed25519();
    let leaf = ca
        .sign(
            &CertSpec {
                key: KeySpec::Ed25519,
                cn: "alice".into(),
                o: vec!["system:masters".into(), "devs".into(), "ops".into()],
                ekus: vec![ExtendedKeyUsage::Client],
                ..CertSpec::default()
            },
            &key,
        )
        .unwrap();
    let ca_path = write(dir.path(), "ca.crt", ca.cert());
    let leaf_path = write(dir.path(), "leaf.crt", &leaf);
    verify(&["-purpose", "sslclient", "-CAfile", &ca_path, &leaf_path]);
    assert_eq!(
        subject(Path::new(&ca_path)),
        "O = Lab, O = Kubelius, CN = several-o-ca"
    );
    assert_eq!(
        subject(Path::new(&leaf_path)),
        "O = system:masters, O = devs, O = ops, CN = alice"
    );
    let summary = leaf.summary();
    assert_eq!(summary.o, ["system:masters", "devs", "ops"]);
    assert_eq!(summary.issuer, "O=Lab, O=Kubelius, CN=several-o-ca");
    assert_eq!(
        extensions(Path::new(&ca_path))["X509v3 Key Usage"],
        "critical: Certificate Sign, CRL Sign"
    );
}

/// `usages: [cert-sign, crl-sign]`, through serde as a script writes it.
fn crl_usages() -> Option<Vec<KeyUsage>> {
    serde_json::from_str(r#"["cert-sign", "crl-sign"]"#).unwrap()
}

#[test]
fn a_stored_ca_made_by_openssl_signs_new_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let (key_path, cert_path) = (dir.path().join("ca.key"), dir.path().join("ca.crt"));
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/O=Outside/CN=outside-ca",
        "-days",
        "30",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout",
        key_path.to_str().unwrap(),
        "-out",
        cert_path.to_str().unwrap(),
    ]);
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    let ca = Ca::from_pem(&read(&cert_path), &read(&key_path)).unwrap();
    let key = PrivateKey::generate(KeySpec::EcdsaP256).unwrap();
    let leaf = ca
        .sign(
            &CertSpec {
                key: KeySpec::EcdsaP256,
                cn: "web".into(),
                dns: vec!["web.lab".into()],
                ips: vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
                ekus: vec![ExtendedKeyUsage::Server],
                ..CertSpec::default()
            },
            &key,
        )
        .unwrap();
    let leaf_path = write(dir.path(), "leaf.crt", &leaf);
    verify(&[
        "-purpose",
        "sslserver",
        "-CAfile",
        cert_path.to_str().unwrap(),
        &leaf_path,
    ]);
    assert_eq!(
        extensions(Path::new(&leaf_path))["X509v3 Subject Alternative Name"],
        "DNS:web.lab, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"
    );
}

#[test]
fn our_own_ca_reloaded_from_pem_signs_like_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let material = &kube().material;
    let ca = Ca::from_pem(
        &material.certs["ca"].to_pem(),
        &material.keys["ca"].to_pem(),
    )
    .unwrap();
    assert_eq!(ca.cert(), &material.certs["ca"]);
    assert_eq!(ca.key(), &material.keys["ca"]);
    let key = ed25519();
    let leaf = ca
        .sign(
            &CertSpec {
                key: KeySpec::Ed25519,
                cn: "late".into(),
                ..CertSpec::default()
            },
            &key,
        )
        .unwrap();
    let root = write(dir.path(), "root.crt", &material.certs["root-ca"]);
    let intermediate = write(dir.path(), "ca.crt", &material.certs["ca"]);
    let leaf = write(dir.path(), "late.crt", &leaf);
    verify(&["-CAfile", &root, "-untrusted", &intermediate, &leaf]);
}

#[test]
fn a_ca_needs_a_ca_certificate_and_its_own_key() {
    let material = &kube().material;
    let leaf = material.certs["admin.conf"].clone();
    let err = Ca::new(leaf, material.keys["admin.conf"].clone()).unwrap_err();
    assert!(err.to_string().contains("is not a CA"), "{err}");
    let err = Ca::new(
        material.certs["ca"].clone(),
        material.keys["etcd/ca"].clone(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("not the key of"), "{err}");
    let key = ed25519();
    let err = CertSpec {
        key: KeySpec::Rsa2048,
        cn: "x".into(),
        ..CertSpec::default()
    }
    .self_signed(&key)
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("rsa-2048 key, the key given is ed25519"),
        "{err}"
    );
}

#[test]
fn certificates_round_trip_through_pem_with_openssl_fingerprints() {
    let dir = tempfile::tempdir().unwrap();
    let cert = &kube().material.certs["control-1/apiserver"];
    assert_eq!(&Certificate::from_pem(&cert.to_pem()).unwrap(), cert);
    let path = write(dir.path(), "apiserver.crt", cert);
    let out = openssl(&["x509", "-in", &path, "-noout", "-fingerprint", "-sha256"]);
    let theirs = out
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .replace(':', "")
        .to_lowercase();
    assert_eq!(cert.fingerprint(), format!("sha256:{theirs}"));
    let json = serde_json::to_string(cert).unwrap();
    assert_eq!(&serde_json::from_str::<Certificate>(&json).unwrap(), cert);
    assert!(Certificate::from_pem(&kube().material.keys["sa"].to_pem()).is_err());
}

#[test]
fn summaries_say_what_the_certificate_says() {
    let material = &kube().material;
    let s = material.certs["control-2/etcd/peer"].summary();
    assert_eq!(s.subject, "CN=control-2");
    assert_eq!(s.cn, "control-2");
    assert_eq!(s.issuer, "CN=etcd-ca");
    assert_eq!(s.key, Some(KeySpec::Rsa2048));
    assert_eq!(s.dns, ["control-2", "localhost"]);
    assert_eq!(
        s.ips,
        [
            "10.10.16.12".parse::<std::net::IpAddr>().unwrap(),
            [127, 0, 0, 1].into(),
            std::net::Ipv6Addr::LOCALHOST.into()
        ]
    );
    assert_eq!(
        s.usages,
        [KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment]
    );
    assert_eq!(s.ekus, [ExtendedKeyUsage::Server, ExtendedKeyUsage::Client]);
    assert!(!s.is_ca);
    assert_eq!(s.days_left, 364);
    assert_eq!(s.not_after - s.not_before, 365 * 86400);
    let text = s.to_string();
    assert!(
        text.contains("SANs:        DNS:control-2, DNS:localhost, IP:10.10.16.12, IP:127.0.0.1")
    );
    assert!(text.contains("EKUs:        server, client"), "{text}");
    assert!(text.contains("(364d)"), "{text}");

    let ca = material.certs["ca"].summary();
    assert!(ca.is_ca);
    assert_eq!(ca.path_len, Some(0));
    assert_eq!(ca.key, Some(KeySpec::Rsa4096));
    assert_eq!(ca.days_left, 3649);
    assert!(ca.to_string().contains("CA:          yes, path length 0"));

    let expired = CertSpec {
        key: KeySpec::Ed25519,
        cn: "old".into(),
        not_before: Some(1_000_000_000),
        days: Some(10),
        ..CertSpec::default()
    }
    .self_signed(&ed25519())
    .unwrap()
    .summary();
    assert!(expired.days_left < -9000);
    let table = expiration_table([("ca", &ca), ("old", &expired)]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("CERTIFICATE   EXPIRES "), "{table}");
    assert!(
        lines[1].starts_with("ca            20") && lines[1].contains(" 9y "),
        "{table}"
    );
    assert!(
        lines[2].contains("2001-09-19 01:46 UTC   expired"),
        "{table}"
    );
}

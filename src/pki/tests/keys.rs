//! Keys: PEM round trips, keys made by openssl, fingerprints, redaction.

use sha2::{Digest, Sha256};

use super::super::key::generate_many;
use super::super::{Error, KeySpec, PrivateKey};
use super::{kube, openssl};

#[test]
fn every_kind_round_trips_through_pem_and_openssl_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let keys = generate_many(KeySpec::ALL).unwrap();
    for (spec, key) in KeySpec::ALL.iter().zip(&keys) {
        assert_eq!(key.spec(), *spec);
        let pem = key.to_pem();
        assert!(
            pem.starts_with("-----BEGIN PRIVATE KEY-----\n"),
            "{spec}: PKCS#8"
        );
        let back = PrivateKey::from_pem(&pem).unwrap();
        assert_eq!(&back, key, "{spec}");
        assert_eq!(back.spec(), *spec);
        assert_eq!(back.fingerprint(), key.fingerprint());

        let path = dir.path().join(format!("{spec}.key"));
        std::fs::write(&path, &pem).unwrap();
        let path = path.to_str().unwrap();
        openssl(&["pkey", "-in", path, "-check", "-noout"]);
        assert_eq!(
            openssl(&["pkey", "-in", path, "-pubout"]),
            key.public_key_pem(),
            "{spec}"
        );
    }
}

#[test]
fn keys_made_by_openssl_are_read_with_their_kind_and_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    for (spec, args) in [
        (
            KeySpec::Rsa2048,
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"][..],
        ),
        (
            KeySpec::EcdsaP256,
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        ),
        (KeySpec::Ed25519, &["-algorithm", "ed25519"]),
    ] {
        let path = dir.path().join(format!("{spec}.key"));
        let path = path.to_str().unwrap();
        openssl(&[&["genpkey", "-out", path][..], args].concat());
        let key = PrivateKey::from_pem(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(key.spec(), spec);
        assert_eq!(
            openssl(&["pkey", "-in", path, "-pubout"]),
            key.public_key_pem()
        );
        let der = std::process::Command::new("/usr/bin/openssl")
            .args(["pkey", "-in", path, "-pubout", "-outform", "DER"])
            .output()
            .unwrap()
            .stdout;
        assert_eq!(
            key.fingerprint(),
            format!("sha256:{}", hex::encode(Sha256::digest(der)))
        );
    }
}

#[test]
fn other_key_formats_are_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p384.key");
    let path = path.to_str().unwrap();
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-out",
        path,
    ]);
    let p384 = std::fs::read_to_string(path).unwrap();
    let err = PrivateKey::from_pem(&p384).unwrap_err();
    assert!(matches!(err, Error::UnsupportedKey(_)), "{err:?}");

    let pkcs1 = openssl(&["pkey", "-in", path, "-traditional"]);
    let err = PrivateKey::from_pem(&pkcs1).unwrap_err().to_string();
    assert!(
        err.contains("expected PRIVATE KEY, found EC PRIVATE KEY"),
        "{err}"
    );
    assert!(err.contains("openssl pkcs8 -topk8 -nocrypt"), "{err}");
    assert!(PrivateKey::from_pem("not a key").is_err());
}

#[test]
fn debug_output_never_shows_private_keys() {
    let material = &kube().material;
    let debug = format!("{material:?} {:#?}", material.keys["sa"]);
    for key in material.keys.values() {
        let pem = key.to_pem();
        for line in pem.lines().filter(|l| !l.starts_with("-----")) {
            assert!(!debug.contains(line), "Debug shows key material: {line}");
        }
    }
    assert!(
        debug.contains("PrivateKey { spec: Rsa2048, public: \"sha256:"),
        "{debug}"
    );
    assert!(!debug.contains("PRIVATE KEY"));
}

#[test]
fn serde_writes_pem_strings() {
    let key = PrivateKey::generate(KeySpec::Ed25519).unwrap();
    let json = serde_json::to_string(&key).unwrap();
    assert_eq!(json, serde_json::to_string(&key.to_pem()).unwrap());
    assert_eq!(serde_json::from_str::<PrivateKey>(&json).unwrap(), key);
    assert_eq!(
        serde_json::to_string(&KeySpec::EcdsaP256).unwrap(),
        "\"ecdsa-p256\""
    );
    assert!(serde_json::from_str::<KeySpec>("\"rsa-1024\"").is_err());
}

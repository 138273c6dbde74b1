//! Generating sets: reuse of existing material, dependency order, errors.

use super::super::{CertSpec, Error, KeySpec, Material, SetSpec, generate_set};
use super::{kube, kube_spec};

/// A small set with cheap keys: a root, an intermediate, two leaves and a
/// bare key.
fn small() -> SetSpec {
    serde_json::from_value(serde_json::json!({
        "keys": {"sa": "ed25519"},
        "certs": {
            "leaf-a": {"key": "ecdsa-p256", "cn": "a", "ips": ["10.0.0.1"], "issuer": "mid"},
            "mid": {"key": "ed25519", "cn": "mid", "ca": true, "issuer": "root"},
            "root": {"key": "ed25519", "cn": "root", "ca": true},
            "leaf-b": {"key": "ed25519", "cn": "b", "o": ["g"], "ekus": ["client"], "issuer": "root"},
        }
    }))
    .unwrap()
}

fn fingerprints(m: &Material) -> Vec<(String, String)> {
    (m.keys.iter().map(|(n, k)| (n.clone(), k.fingerprint())))
        .chain(m.certs.iter().map(|(n, c)| (n.clone(), c.fingerprint())))
        .collect()
}

#[test]
fn material_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Material>();
    shareable::<super::super::Ca>();
}

#[test]
fn a_fresh_set_is_made_issuers_first_in_the_order_asked() {
    let made = generate_set(&small(), &Material::default()).unwrap();
    assert_eq!(made.new_keys, ["sa", "leaf-a", "mid", "root", "leaf-b"]);
    assert_eq!(made.new_certs, ["root", "mid", "leaf-a", "leaf-b"]);
    let names: Vec<&str> = made.material.certs.keys().map(String::as_str).collect();
    assert_eq!(names, ["leaf-a", "mid", "root", "leaf-b"]);
    assert_eq!(made.material.certs["leaf-a"].summary().issuer, "CN=mid");
}

#[test]
fn existing_material_is_reused_and_survives_the_state_file() {
    let first = kube();
    let stored = serde_json::to_string(&first.material).unwrap();
    let loaded: Material = serde_json::from_str(&stored).unwrap();
    assert_eq!(loaded, first.material);
    let again = generate_set(&kube_spec(), &loaded).unwrap();
    assert!(again.new_keys.is_empty(), "{:?}", again.new_keys);
    assert!(again.new_certs.is_empty(), "{:?}", again.new_certs);
    assert_eq!(fingerprints(&again.material), fingerprints(&first.material));
}

#[test]
fn only_what_changed_is_remade_and_keys_outlive_their_certificates() {
    let first = generate_set(&small(), &Material::default())
        .unwrap()
        .material;

    // A leaf's IP changes: a new certificate for the same key.
    let mut spec = small();
    spec.certs["leaf-a"].ips = vec!["10.0.0.2".parse().unwrap()];
    let made = generate_set(&spec, &first).unwrap();
    assert!(made.new_keys.is_empty());
    assert_eq!(made.new_certs, ["leaf-a"]);
    assert_eq!(made.material.keys["leaf-a"], first.keys["leaf-a"]);
    assert_ne!(made.material.certs["leaf-a"], first.certs["leaf-a"]);

    // The intermediate loses its key: it and what it signed are remade,
    // the leaf keeps its key.
    let mut lost = first.clone();
    lost.keys.shift_remove("mid");
    let made = generate_set(&small(), &lost).unwrap();
    assert_eq!(made.new_keys, ["mid"]);
    assert_eq!(made.new_certs, ["mid", "leaf-a"]);
    assert_eq!(made.material.keys["leaf-a"], first.keys["leaf-a"]);

    // The root certificate is replaced behind our back: everything under it
    // is re-issued, no key is regenerated.
    let mut forged = first.clone();
    let other = generate_set(&small(), &Material::default())
        .unwrap()
        .material;
    forged.certs["root"] = other.certs["root"].clone();
    let made = generate_set(&small(), &forged).unwrap();
    assert!(made.new_keys.is_empty());
    assert_eq!(made.new_certs, ["root", "mid", "leaf-a", "leaf-b"]);

    // A key of another kind is asked for: a new key and certificate.
    let mut spec = small();
    spec.certs["leaf-b"].key = KeySpec::EcdsaP256;
    spec.keys["sa"] = KeySpec::EcdsaP256;
    let made = generate_set(&spec, &first).unwrap();
    assert_eq!(made.new_keys, ["sa", "leaf-b"]);
    assert_eq!(made.new_certs, ["leaf-b"]);

    // Entries no longer asked for are dropped.
    let mut spec = small();
    spec.certs.shift_remove("leaf-b");
    let made = generate_set(&spec, &first).unwrap();
    assert!(!made.material.keys.contains_key("leaf-b"));
    assert_eq!(made.material.certs.len(), 3);
}

#[test]
fn unsound_sets_are_refused_naming_the_entry() {
    let cert = |cn: &str, issuer: Option<&str>, ca: bool| CertSpec {
        key: KeySpec::Ed25519,
        cn: cn.into(),
        ca,
        issuer: issuer.map(str::to_string),
        ..CertSpec::default()
    };
    let cases = [
        (
            vec![("a", cert("a", Some("nope"), false))],
            "a: no issuer \"nope\" in the set",
        ),
        (
            vec![
                ("a", cert("a", None, false)),
                ("b", cert("b", Some("a"), false)),
            ],
            "b: issuer \"a\" is not a CA",
        ),
        (
            vec![
                ("a", cert("a", Some("b"), true)),
                ("b", cert("b", Some("a"), true)),
            ],
            "a: issued by itself through a cycle of issuers",
        ),
        (
            vec![("a", cert("", None, false))],
            "a: empty common name (cn)",
        ),
        (
            vec![("sa", cert("sa", None, false))],
            "sa: named both as a key and as a certificate",
        ),
    ];
    for (certs, message) in cases {
        let spec = SetSpec {
            keys: [("sa".to_string(), KeySpec::Ed25519)].into_iter().collect(),
            certs: certs.into_iter().map(|(n, c)| (n.to_string(), c)).collect(),
        };
        let err = generate_set(&spec, &Material::default()).unwrap_err();
        assert!(matches!(err, Error::Spec { .. }), "{err:?}");
        assert_eq!(err.to_string(), message);
    }
    let typo = serde_json::from_str::<SetSpec>(r#"{"certs": {"a": {"cn": "a", "isuer": "b"}}}"#);
    assert!(
        typo.unwrap_err()
            .to_string()
            .contains("unknown field `isuer`")
    );
}

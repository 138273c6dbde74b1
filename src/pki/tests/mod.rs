//! Tests of the PKI module against real openssl and kubectl.

mod certs;
mod keys;
mod kube;
mod kubeconfig;
mod set;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::{Generated, Material, SetSpec, generate_set};

/// The Kubernetes PKI of the design for three control nodes, as a lab
/// script would declare it.
fn kube_spec() -> SetSpec {
    serde_json::from_str(include_str!("../testdata/kube-3-nodes.json")).expect("fixture parses")
}

/// The Kubernetes PKI, generated once for all tests.
fn kube() -> &'static Generated {
    static KUBE: OnceLock<Generated> = OnceLock::new();
    KUBE.get_or_init(|| generate_set(&kube_spec(), &Material::default()).expect("kube PKI"))
}

/// Runs a command, panicking with its stderr unless it succeeds; returns
/// stdout.
fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[path = "../../../tests/common/x509.rs"]
mod x509;
use x509::{extensions, openssl, subject};

/// Writes every certificate as NAME.crt and every key as NAME.key (and
/// NAME.pub for bare keys) under `dir`, kubeadm style; returns the paths
/// of the certificates by name.
fn write_material(dir: &Path, material: &Material) -> HashMap<String, PathBuf> {
    let write = |name: &str, ext: &str, text: String| {
        let path = dir.join(format!("{name}.{ext}"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    };
    for (name, key) in &material.keys {
        write(name, "key", key.to_pem());
        if !material.certs.contains_key(name) {
            write(name, "pub", key.public_key_pem());
        }
    }
    (material.certs.iter())
        .map(|(name, cert)| (name.clone(), write(name, "crt", cert.to_pem())))
        .collect()
}

//! Looking at certificates and keys with the real `openssl`, and the
//! Kubernetes lab of three loopback nodes rendered by labrun.

use std::path::{Path, PathBuf};

use super::x509::openssl;
use super::{Labrun, text};

/// The lab script of three control nodes on 127.0.0.11-13.
pub const KUBE_LAB: &str = "tests/fixtures/labs/kube/pki.lua";

/// `labrun render` of [`KUBE_LAB`] into `dir` (plus `args`), which must
/// succeed.
pub fn render_kube(labrun: &Labrun, dir: &Path, args: &[&str]) {
    let mut all = vec!["render", KUBE_LAB, dir.to_str().unwrap()];
    all.extend(args);
    let out = labrun.run(&all);
    assert!(out.status.success(), "{}", text(&out));
}

/// `openssl verify` of `cert` against the self-signed `anchor`, through
/// `intermediate`, for `purpose` (sslserver, sslclient, or none); the
/// output when it verifies, else a panic.
pub fn verify(anchor: &Path, intermediate: Option<&Path>, purpose: Option<&str>, cert: &Path) {
    let mut args = vec![
        "verify",
        "-x509_strict",
        "-CAfile",
        anchor.to_str().unwrap(),
    ];
    if let Some(i) = intermediate {
        args.extend(["-untrusted", i.to_str().unwrap()]);
    }
    if let Some(p) = purpose {
        args.extend(["-purpose", p]);
    }
    args.push(cert.to_str().unwrap());
    let out = openssl(&args);
    assert!(out.trim().ends_with(": OK"), "{}: {out}", cert.display());
}

/// The public key (PEM) of a certificate or a private key.
pub fn public_key(path: &Path) -> String {
    let p = path.to_str().unwrap();
    if p.ends_with(".key") {
        openssl(&["pkey", "-in", p, "-pubout"])
    } else {
        openssl(&["x509", "-in", p, "-noout", "-pubkey"])
    }
}

/// The size of a certificate's RSA key in bits.
pub fn rsa_bits(cert: &Path) -> u32 {
    let out = openssl(&["x509", "-in", cert.to_str().unwrap(), "-noout", "-text"]);
    let (_, rest) = out.split_once("Public-Key: (").expect("an RSA key");
    rest.split(' ').next().unwrap().parse().unwrap()
}

/// A throw-away CA and a certificate it signs, made by openssl in `dir`:
/// `(ca.crt, cert, key)`. The certificate has `cn`, `ext` (openssl
/// extension lines) and a 2048-bit RSA key.
pub fn foreign_cert(dir: &Path, ca_cn: &str, cn: &str, ext: &str) -> (PathBuf, PathBuf, PathBuf) {
    let ca = dir.join("foreign-ca.crt");
    let ca_key = dir.join("foreign-ca.key");
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        &format!("/CN={ca_cn}"),
        "-keyout",
        ca_key.to_str().unwrap(),
        "-out",
        ca.to_str().unwrap(),
    ]);
    let (cert, key) = signed_by(dir, &ca, &ca_key, cn, ext);
    (ca, cert, key)
}

/// A certificate for `cn` with `ext` (openssl extension lines) signed by
/// the CA `ca` with key `ca_key`, made by openssl in `dir`: `(cert, key)`.
pub fn signed_by(dir: &Path, ca: &Path, ca_key: &Path, cn: &str, ext: &str) -> (PathBuf, PathBuf) {
    let base = dir.join(cn.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
    let [key, csr, cert, ext_file] = ["key", "csr", "crt", "ext"].map(|e| base.with_extension(e));
    std::fs::write(&ext_file, ext).unwrap();
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        &format!("/CN={cn}"),
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        csr.to_str().unwrap(),
    ]);
    openssl(&[
        "x509",
        "-req",
        "-days",
        "1",
        "-in",
        csr.to_str().unwrap(),
        "-CA",
        ca.to_str().unwrap(),
        "-CAkey",
        ca_key.to_str().unwrap(),
        "-CAcreateserial",
        "-extfile",
        ext_file.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
    ]);
    (cert, key)
}

/// `kubectl config view --raw` of a kubeconfig, as JSON: kubectl must load it.
pub fn kubectl_view(path: &Path) -> serde_json::Value {
    let out = std::process::Command::new("kubectl")
        .args(["config", "view", "--raw", "-o", "json", "--kubeconfig"])
        .arg(path)
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

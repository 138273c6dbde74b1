//! Reading certificates with the real `openssl`: shared by the PKI unit
//! tests (included with `#[path]`) and the integration tests.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

/// Runs openssl with `args`, panicking with its stderr unless it succeeds;
/// returns stdout.
pub fn openssl(args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The subject as openssl prints it, e.g. `O = system:nodes, CN = x`.
pub fn subject(cert: &Path) -> String {
    let out = openssl(&["x509", "-in", cert.to_str().unwrap(), "-noout", "-subject"]);
    out.trim().trim_start_matches("subject=").to_string()
}

/// Extension name → value as `openssl x509 -ext` prints them, e.g. "X509v3
/// Key Usage" → "critical: Digital Signature, Key Encipherment".
pub fn extensions(cert: &Path) -> HashMap<String, String> {
    let out = openssl(&[
        "x509",
        "-in",
        cert.to_str().unwrap(),
        "-noout",
        "-ext",
        "subjectAltName,keyUsage,extendedKeyUsage,basicConstraints",
    ]);
    let mut map = HashMap::new();
    let mut current = String::new();
    for line in out.lines() {
        if let Some(value) = line.strip_prefix("    ") {
            map.entry(current.clone())
                .or_insert_with(String::new)
                .push_str(value.trim());
        } else if let Some((name, flags)) = line.split_once(':') {
            current = name.to_string();
            let flags = flags.trim();
            map.insert(
                current.clone(),
                if flags.is_empty() {
                    String::new()
                } else {
                    format!("{flags}: ")
                },
            );
        }
    }
    map
}

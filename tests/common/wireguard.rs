//! WireGuard's own tools on labrun's configs: `wg pubkey` to derive public
//! keys, `zbarimg` to read QR codes back, and a reader of config lines.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// The public key `wg pubkey` derives from a base64 private key.
pub fn wg_pubkey(private: &str) -> String {
    let mut child = Command::new("wg")
        .arg("pubkey")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wg (Debian wireguard-tools, installed by .ci/setup)");
    writeln!(child.stdin.take().unwrap(), "{private}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "wg pubkey: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A private key made by `wg genkey`.
pub fn wg_genkey() -> String {
    let out = Command::new("wg")
        .arg("genkey")
        .output()
        .expect("wg genkey");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The values of every `key = value` line of `section` (`Interface` or
/// `Peer`; every one of that name) in a WireGuard config, in order.
pub fn values(config: &str, section: &str, key: &str) -> Vec<String> {
    let mut current = "";
    let mut found = Vec::new();
    for line in config.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name;
        } else if let Some((k, v)) = line.split_once('=')
            && current == section
            && k.trim() == key
        {
            found.push(v.trim().to_string());
        }
    }
    found
}

/// The one value of `key` in `section`.
pub fn value(config: &str, section: &str, key: &str) -> String {
    let all = values(config, section, key);
    assert_eq!(all.len(), 1, "{section}.{key} in\n{config}");
    all.into_iter().next().unwrap()
}

/// What `zbarimg` reads from the QR code in the image at `path`, byte for
/// byte (`-Sbinary`: no charset guessing, no newline added).
pub fn zbar_decode(path: &Path) -> String {
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sbinary"])
        .arg(path)
        .output()
        .expect("zbarimg (Debian zbar-tools, installed by .ci/setup)");
    assert!(
        out.status.success(),
        "zbarimg {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("a QR code of UTF-8 text")
}

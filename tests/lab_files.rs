//! Files a lab declares with `lab:file`: written by `up` into the lab's
//! private folder, and by `render` into any folder, each with its mode.

mod common;

use common::{Labrun, Moto, text};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const SCRIPT: &str = r##"
local lab = labrun.lab { name = "files" }
lab:vpc("v", { cidr = "10.0.0.0/16" })
local pki = labrun.pki.set { certs = { ca = { key = "ed25519", cn = "files-ca", ca = true } } }
lab:file("pki/ca.key", pki.ca.key, { mode = "0600" })
lab:file("pki/ca.crt", pki.ca.cert)
lab:file("run.sh", "#!/bin/sh\necho hi\n", { mode = "0755" })
"##;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn up_and_render_write_the_declared_files_with_their_modes() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let dir = tempfile::tempdir().unwrap();
    let script = common::script(dir.path(), "files.lua", SCRIPT);
    let script = script.to_str().unwrap();

    let out = labrun.run(&["up", script, "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let files = labrun.lab_dir("files").join("files");
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("files: {}", files.display())));
    assert_eq!(mode(&labrun.lab_dir("files")), 0o700);
    assert_eq!(mode(&files.join("pki/ca.key")), 0o600);
    assert_eq!(mode(&files.join("pki/ca.crt")), 0o644);
    assert_eq!(mode(&files.join("run.sh")), 0o755);

    let rendered = dir.path().join("out");
    let out = labrun.run(&["render", script, rendered.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    for (file, want) in [
        ("pki/ca.key", 0o600),
        ("pki/ca.crt", 0o644),
        ("run.sh", 0o755),
    ] {
        assert_eq!(mode(&rendered.join(file)), want, "{file}");
        assert_eq!(
            std::fs::read(rendered.join(file)).unwrap(),
            std::fs::read(files.join(file)).unwrap(),
            "{file}: up and render write the same (the key is reused)"
        );
    }
    let key = std::fs::read_to_string(files.join("pki/ca.key")).unwrap();
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));

    // A file written before with looser permissions is tightened before
    // the key goes in.
    std::fs::set_permissions(
        rendered.join("pki/ca.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let out = labrun.run(&["render", script, rendered.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(mode(&rendered.join("pki/ca.key")), 0o600);
}

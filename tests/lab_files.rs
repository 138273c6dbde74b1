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

/// A WireGuard-style client file and a node's user data holding the
/// gateway's Elastic IP, which exists only after apply.
const APPLY_TIME: &str = r##"
local lab = labrun.lab { name = "applytime" }
local vpc = lab:vpc("v", { cidr = "10.0.0.0/16" })
local igw = lab:internet_gateway("gw", { vpc = vpc })
local subnet = lab:subnet("s", { vpc = vpc, cidr = "10.0.1.0/24" })
local eni = lab:network_interface("gw", { subnet = subnet, private_ip = "10.0.1.10" })
local eip = lab:elastic_ip("gw", { network_interface = eni, depends_on = { igw } })
lab:file("client.conf", "[Peer]\nEndpoint = " .. eip.public_ip .. ":51820\n", { mode = "0600" })
lab:instance("node", {
  subnet = subnet, type = "t3.nano", image = "ami-0fc0s00000000x861",
  user_data = labrun.template("#!/bin/sh\necho gateway ${ip}\n", { ip = eip.public_ip }),
})
lab:output("endpoint", eip.public_ip .. ":51820")
"##;

#[tokio::test(flavor = "multi_thread")]
async fn values_known_after_apply_fill_files_user_data_and_outputs() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let dir = tempfile::tempdir().unwrap();
    let script = common::script(dir.path(), "applytime.lua", APPLY_TIME);
    let script = script.to_str().unwrap();

    let out = labrun.run(&["graph", script, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let graph: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let node = graph["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "instance.node")
        .unwrap();
    assert!(
        node["depends_on"]
            .as_array()
            .unwrap()
            .contains(&"elastic_ip.gw".into()),
        "the instance waits for the address its user data names: {node}"
    );

    let out = labrun.run(&["up", script, "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let ec2 = moto.ec2().await;
    let addresses = ec2.describe_addresses().send().await.unwrap();
    let ip = addresses.addresses()[0].public_ip().unwrap().to_string();
    let file = labrun.lab_dir("applytime").join("files/client.conf");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        format!("[Peer]\nEndpoint = {ip}:51820\n")
    );
    assert_eq!(mode(&file), 0o600);
    assert_eq!(
        common::user_data(&ec2, "applytime", "instance.node").await,
        format!("#!/bin/sh\necho gateway {ip}\n")
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("endpoint = {ip}:51820")),
        "{}",
        text(&out)
    );

    // An unchanged lab rewrites nothing.
    let before = std::fs::metadata(&file).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = labrun.run(&["up", script, "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("No changes"), "{stdout}");
    assert!(stdout.contains("(0 written, 1 unchanged)"), "{stdout}");
    assert_eq!(
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        before
    );

    // Offline, render shows what is not known as a placeholder; with the
    // lab up, the value.
    let rendered = dir.path().join("out");
    let out = labrun.run(&["render", script, rendered.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        std::fs::read_to_string(rendered.join("client.conf"))
            .unwrap()
            .contains(&ip)
    );
    let out = labrun.run(&["down", "applytime", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = labrun.run(&["render", script, rendered.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(rendered.join("client.conf")).unwrap(),
        "[Peer]\nEndpoint = ${elastic_ip.gw.public_ip}:51820\n"
    );
}

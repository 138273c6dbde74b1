//! `labrun render`: each node's Butane source next to its Ignition config,
//! offline.

mod common;

use common::{Labrun, text};
use serde_json::Value;
use std::path::Path;

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn nat_lab_nodes_get_butane_that_translates_back_to_their_ignition() {
    let labrun = Labrun::offline();
    let dir = tempfile::tempdir().unwrap();
    let out = labrun.run(&["render", "labs/nat.lua", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    for node in ["gateway", "instance-01", "instance-02"] {
        let bu = dir.path().join(node).join("config.bu");
        let ign = json(&dir.path().join(node).join("config.ign"));
        assert_eq!(ign["ignition"]["version"], "3.5.0", "{node}");
        let again = labrun.run(&["butane", "--strict", bu.to_str().unwrap()]);
        assert!(again.status.success(), "{node}: {}", text(&again));
        let back: Value = serde_json::from_slice(&again.stdout).unwrap();
        assert_eq!(back, ign, "{node}: config.bu translates to config.ign");
        // They carry the node's private SSH host key.
        for file in ["config.bu", "config.ign"] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(node).join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{node}/{file}");
        }
    }
    // The gateway's NAT comes from its Ignition.
    let gateway = std::fs::read_to_string(dir.path().join("gateway/config.bu")).unwrap();
    assert!(gateway.contains("net.ipv4.ip_forward = 1"), "{gateway}");
    assert!(
        gateway.contains("-s 10.10.16.0/24 ! -d 10.10.16.0/24 -j MASQUERADE"),
        "{gateway}"
    );
    let again = tempfile::tempdir().unwrap();
    labrun.run(&["render", "labs/nat.lua", again.path().to_str().unwrap()]);
    for file in ["gateway/config.bu", "gateway/config.ign"] {
        assert_eq!(
            std::fs::read(dir.path().join(file)).unwrap(),
            std::fs::read(again.path().join(file)).unwrap(),
            "{file} is the same on every run"
        );
    }
}

#[test]
fn yaml_sources_are_written_as_given() {
    let labrun = Labrun::offline();
    let dir = tempfile::tempdir().unwrap();
    let yaml = "variant: fcos\nversion: 1.6.0\n# a comment stays\nstorage:\n  files:\n    - path: /etc/hostname\n      contents:\n        inline: node\n";
    std::fs::write(dir.path().join("node.bu"), yaml).unwrap();
    let script = common::script(
        dir.path(),
        "lab.lua",
        r##"local lab = labrun.lab { name = "yaml" }
local vpc = lab:vpc("v", { cidr = "10.0.0.0/16" })
local subnet = lab:subnet("s", { vpc = vpc, cidr = "10.0.1.0/24" })
lab:instance("node", { subnet = subnet, type = "t4g.nano", image = "ami-12345678",
  user_data = labrun.ignition.butane(labrun.file("node.bu")) })
lab:instance("plain", { subnet = subnet, type = "t4g.nano", image = "ami-12345678",
  user_data = "#!/bin/sh\necho hi\n" })
"##,
    );
    let out_dir = dir.path().join("out");
    let out = labrun.run(&[
        "render",
        script.to_str().unwrap(),
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(out_dir.join("node/config.bu")).unwrap(),
        yaml
    );
    assert_eq!(
        json(&out_dir.join("node/config.ign"))["storage"]["files"][0]["path"],
        "/etc/hostname"
    );
    assert_eq!(
        std::fs::read_to_string(out_dir.join("plain/user-data")).unwrap(),
        "#!/bin/sh\necho hi\n"
    );
    assert!(!out_dir.join("plain/config.bu").exists());
}

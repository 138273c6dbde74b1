//! The lab's lock (`lock.json`): the image a lookup found and the software
//! versions a lab was first brought up with are used again on every later
//! `up` (a rebuild a year later is the same lab) until `up --upgrade`.

mod common;

use common::{Labrun, Moto, text};

const LAB: &str = r#"
local coreos, versions = require "labrun.coreos", require "labrun.kube.versions"
local lab = labrun.lab { name = "locked" }
local vpc = lab:vpc("v", { cidr = "10.0.0.0/16" })
local subnet = lab:subnet("s", { vpc = vpc, cidr = "10.0.1.0/24" })
lab:instance("node", { subnet = subnet, type = "t4g.nano", image = coreos.ami("stable", "aarch64") })
lab:file("kubernetes-version", versions.KUBERNETES .. " " .. versions.images["kube-apiserver"])
"#;

/// The newest stable aarch64 image of the emulator's Fedora CoreOS list.
const FOUND: &str = "ami-0fc0s00000000a641";
/// Another image, pinned by hand as if an older lookup had found it.
const OLD: &str = "ami-0fc0s00000000x861";

async fn image_of_node(moto: &Moto) -> String {
    let ec2 = moto.ec2().await;
    let out = ec2.describe_instances().send().await.unwrap();
    let running: Vec<_> = (out.reservations().iter().flat_map(|r| r.instances()))
        .filter(|i| i.state().and_then(|s| s.name()).map(|n| n.as_str()) == Some("running"))
        .collect();
    assert_eq!(running.len(), 1);
    running[0].image_id().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rebuilt_lab_uses_what_it_pinned_until_upgrade() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let dir = tempfile::tempdir().unwrap();
    let script = common::script(dir.path(), "locked.lua", LAB);
    let script = script.to_str().unwrap();
    let run = |args: &[&str]| {
        let out = labrun.run(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        out
    };
    let version = || {
        std::fs::read_to_string(labrun.lab_dir("locked").join("files/kubernetes-version")).unwrap()
    };

    run(&["up", script, "--yes"]);
    assert_eq!(image_of_node(&moto).await, FOUND);
    let lock_path = labrun.lab_dir("locked").join("lock.json");
    let mut lock: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&lock_path).unwrap()).unwrap();
    let images = lock["images"].as_object().unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images.values().next().unwrap(), FOUND, "{lock}");
    let pinned = lock["values"]["kubernetes"]["kubernetes"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        version(),
        format!("{pinned} registry.k8s.io/kube-apiserver:v{pinned}")
    );

    // As if the lab had been brought up long ago: an older image and an
    // older Kubernetes in its lock. It is rebuilt with those.
    run(&["down", "locked", "--yes"]);
    let key = images.keys().next().unwrap().clone();
    lock["images"][&key] = OLD.into();
    lock["values"]["kubernetes"]["kubernetes"] = "1.34.0".into();
    lock["values"]["kubernetes"]["images"]["kube-apiserver"] =
        "registry.k8s.io/kube-apiserver:v1.34.0".into();
    std::fs::write(&lock_path, serde_json::to_vec_pretty(&lock).unwrap()).unwrap();
    let before = std::fs::read(&lock_path).unwrap();
    let out = run(&["plan", script]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(OLD),
        "{}",
        text(&out)
    );
    run(&["up", script, "--yes"]);
    assert_eq!(image_of_node(&moto).await, OLD);
    assert_eq!(version(), "1.34.0 registry.k8s.io/kube-apiserver:v1.34.0");
    assert_eq!(
        std::fs::read(&lock_path).unwrap(),
        before,
        "up keeps the lock"
    );

    // A second up of the unchanged lab changes nothing.
    let out = run(&["up", script, "--yes"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("No changes"),
        "{}",
        text(&out)
    );

    // --upgrade: plan shows it and saves nothing; up re-resolves and re-pins.
    let out = run(&["plan", script, "--upgrade"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("replace"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read(&lock_path).unwrap(),
        before,
        "plan --upgrade saved the lock"
    );
    run(&["up", script, "--yes", "--upgrade"]);
    assert_eq!(image_of_node(&moto).await, FOUND);
    assert_eq!(
        version(),
        format!("{pinned} registry.k8s.io/kube-apiserver:v{pinned}")
    );
    let lock: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&lock_path).unwrap()).unwrap();
    assert_eq!(lock["images"][&key], FOUND);
    run(&["down", "locked", "--yes"]);
    assert!(
        lock_path.exists(),
        "the lock outlives down, like the secrets"
    );
}

//! An Ignition config over EC2's 16 KB user-data limit goes through an S3
//! bucket of the lab, against a real moto_server.

mod common;

use common::{Labrun, Moto, lab_buckets, tagged, text};
use sha2::{Digest, Sha512};
use std::path::{Path, PathBuf};

/// A lab with one node whose config carries ≈32 KB of incompressible key
/// material, and one small node.
fn big_lab(dir: &Path) -> PathBuf {
    common::script(
        dir,
        "big.lua",
        r#"local coreos = require "labrun.coreos"
local lab = labrun.lab { name = labrun.var("name", "big") }
local vpc = lab:vpc("lab", { cidr = "10.20.0.0/16" })
local subnet = lab:subnet("nodes", { vpc = vpc, cidr = "10.20.1.0/24" })
math.randomseed(7)
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function noise(n)
  local t = {}
  for i = 1, n do local k = math.random(1, 64); t[i] = alphabet:sub(k, k) end
  return table.concat(t)
end
local files = {}
for i = 1, 4 do
  files["/etc/kubernetes/pki/node-" .. i .. ".key"] = {
    mode = "0600",
    contents = "-----BEGIN PRIVATE KEY-----\n" .. noise(8000) .. "\n-----END PRIVATE KEY-----\n",
  }
end
local image = coreos.ami("stable", "x86_64")
lab:instance("control-01", { subnet = subnet, type = "t3.micro", image = image,
  user_data = coreos.config { hostname = "control-01", files = files } })
lab:instance("small", { subnet = subnet, type = "t3.micro", image = image,
  user_data = coreos.config { hostname = "small" } })
"#,
    )
}

fn sha512_hex(bytes: &[u8]) -> String {
    hex::encode(Sha512::digest(bytes))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_config_over_16_kb_is_served_from_s3_by_a_stub_and_down_removes_it() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let dir = tempfile::tempdir().unwrap();
    let script = big_lab(dir.path());
    let lab = script.to_str().unwrap();

    // The plan shows the bucket and the object, priced, and no key material.
    let plan = labrun.run(&["plan", lab]);
    assert!(plan.status.success(), "{}", text(&plan));
    let shown = String::from_utf8_lossy(&plan.stdout);
    assert!(shown.contains("s3_bucket.user-data"), "{shown}");
    assert!(shown.contains("s3_object.control-01"), "{shown}");
    assert!(!shown.contains("s3_object.small"), "{shown}");
    assert!(
        !shown.contains("PRIVATE KEY"),
        "no secret in the plan: {shown}"
    );
    let json = labrun.run(&["plan", lab, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let object = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "s3_object.control-01")
        .unwrap();
    assert_eq!(object["hourly"], 0.0);
    assert!(
        object["price_note"]
            .as_str()
            .unwrap()
            .contains("negligible")
    );

    let rendered = dir.path().join("rendered");
    let out = labrun.run(&["render", lab, rendered.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let full: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(rendered.join("control-01/config.ign")).unwrap(),
    )
    .unwrap();
    assert!(rendered.join("control-01/config.bu").exists());

    let out = labrun.run(&[lab, "--yes"]);
    assert!(out.status.success(), "{}", text(&out));

    // The instance gets a stub: small, valid, pointing to the object by hash.
    let ec2 = moto.ec2().await;
    let stub_text = common::user_data(&ec2, "big", "instance.control-01").await;
    assert!(stub_text.len() < 16 * 1024, "{} bytes", stub_text.len());
    assert!(!stub_text.contains("PRIVATE KEY"), "{stub_text}");
    labrun::ignition::validate(&stub_text).expect("the stub is valid Ignition");
    let stub: serde_json::Value = serde_json::from_str(&stub_text).unwrap();
    assert_eq!(stub["ignition"]["version"], full["ignition"]["version"]);
    let replace = &stub["ignition"]["config"]["replace"];
    let source = replace["source"].as_str().unwrap();
    assert!(source.contains("X-Amz-Signature="), "presigned: {source}");
    assert!(
        source.contains("X-Amz-Expires=900"),
        "fifteen minutes: {source}"
    );
    let hash = replace["verification"]["hash"].as_str().unwrap();
    let hex = hash.strip_prefix("sha512-").expect("a sha512 hash");
    assert_eq!(hex.len(), 128, "{hash}");

    // The object is in the lab's bucket, and is the full config.
    let s3 = moto.s3().await;
    let [bucket] = lab_buckets(&s3, "big").await.try_into().unwrap();
    assert!(bucket.starts_with("labrun-big-"), "{bucket}");
    let object = s3
        .get_object()
        .bucket(&bucket)
        .key("control-01.ign")
        .send()
        .await
        .unwrap();
    let body = object.body.collect().await.unwrap().into_bytes();
    assert!(body.len() > 16 * 1024);
    assert_eq!(sha512_hex(&body), hex, "the stub's hash is the object's");
    let stored: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(stored, full, "the object is the rendered config");
    // What a booting node does: fetch the presigned URL.
    let path = source.strip_prefix(&moto.url()).unwrap();
    let fetched = moto.http("GET", path).unwrap();
    assert_eq!(sha512_hex(fetched.as_bytes()), hex);

    // The small node keeps its config in user data.
    let small = common::user_data(&ec2, "big", "instance.small").await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&small).unwrap()["storage"]["files"][0]["path"],
        "/etc/hostname"
    );

    let again = labrun.run(&[lab, "--yes"]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("No changes"),
        "{}",
        text(&again)
    );

    let out = labrun.run(&["down", "big", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(tagged(&moto, "big").await, Vec::<String>::new());
    let names: Vec<_> = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(String::from))
        .collect();
    assert!(!names.contains(&bucket), "{names:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn down_without_state_empties_and_deletes_the_bucket_found_by_tag() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let dir = tempfile::tempdir().unwrap();
    let script = big_lab(dir.path());
    let out = labrun.run(&[script.to_str().unwrap(), "--yes", "--var", "name=lost"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(lab_buckets(&moto.s3().await, "lost").await.len(), 1);
    std::fs::remove_file(labrun.lab_dir("lost").join("state.json")).unwrap();

    let out = labrun.run(&["down", "lost", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 resources tagged labrun:lab=lost remain"),
        "{}",
        text(&out)
    );
    assert_eq!(tagged(&moto, "lost").await, Vec::<String>::new());
}

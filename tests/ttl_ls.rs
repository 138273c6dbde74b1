//! Labs that end by themselves (TTL) and `labrun ls` across the account,
//! against moto.

mod common;

use common::{Labrun, Moto, tagged, text};
use serde_json::Value as Json;

const SCRIPT: &str = r#"
local coreos = require "labrun.coreos"
local lab = labrun.lab { name = labrun.var("name", "short"), ttl = labrun.var("ttl", "2h") }
local vpc = lab:vpc("lab", { cidr = "10.20.0.0/16" })
local subnet = lab:subnet("nodes", { vpc = vpc, cidr = "10.20.1.0/24" })
lab:instance("node", { subnet = subnet, type = "t4g.nano", image = coreos.ami("stable", "aarch64"),
  user_data = coreos.config { hostname = "node" } })
"#;

fn script() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = common::script(dir.path(), "short.lua", SCRIPT);
    (dir, path.display().to_string())
}

fn up(labrun: &Labrun, script: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["up", script, "--yes"];
    args.extend_from_slice(extra);
    let out = labrun.run(&args);
    assert!(out.status.success(), "{}", text(&out));
    out
}

fn state(labrun: &Labrun, lab: &str) -> Json {
    serde_json::from_str(&std::fs::read_to_string(labrun.lab_dir(lab).join("state.json")).unwrap())
        .unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The unit called `name` in an Ignition config.
fn unit<'a>(ignition: &'a Json, name: &str) -> &'a Json {
    ignition["systemd"]["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == name)
        .unwrap_or_else(|| panic!("no unit {name} in {ignition}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn instances_power_off_at_expiry_by_their_own_timer_and_terminate() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let (_dir, script) = script();
    let before = now();
    let out = up(&labrun, &script, &[]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Time to live 2h"),
        "{}",
        text(&out)
    );
    let expires = state(&labrun, "short")["expires"].clone();
    let at = expires["at"].as_u64().unwrap();
    assert_eq!(expires["ttl"], 7200);
    assert!((before + 7200..=now() + 7200).contains(&at), "{expires}");

    // The Ignition the instance got is valid and holds the timer for that time.
    let data = common::node_config(&moto.ec2().await, "short", "instance.node").await;
    labrun::ignition::validate(&data).expect("valid Ignition");
    let ignition: Json = serde_json::from_str(&data).unwrap();
    let when = time::OffsetDateTime::from_unix_timestamp(at as i64).unwrap();
    let calendar = format!(
        "OnCalendar={:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        when.year(),
        u8::from(when.month()),
        when.day(),
        when.hour(),
        when.minute(),
        when.second()
    );
    let timer = unit(&ignition, "labrun-expire.timer");
    assert_eq!(timer["enabled"], true);
    let contents = timer["contents"].as_str().unwrap();
    assert!(contents.contains(&calendar), "{contents}");
    assert!(contents.contains("Persistent=true"), "{contents}");
    let service = unit(&ignition, "labrun-expire.service");
    assert!(
        service["contents"]
            .as_str()
            .unwrap()
            .contains("systemctl --no-block poweroff"),
        "{service}"
    );

    // Powering off terminates: the instance stops billing without labrun.
    let ec2 = moto.ec2().await;
    let id = state(&labrun, "short")["resources"]["instance.node"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let behaviour = ec2
        .describe_instance_attribute()
        .instance_id(&id)
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::InstanceInitiatedShutdownBehavior)
        .send()
        .await
        .unwrap();
    assert_eq!(
        behaviour
            .instance_initiated_shutdown_behavior()
            .and_then(|v| v.value()),
        Some("terminate")
    );

    // A later up of the unchanged lab keeps the expiry: nothing to replace.
    let again = up(&labrun, &script, &[]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("No changes"),
        "{}",
        text(&again)
    );
    assert_eq!(state(&labrun, "short")["expires"]["at"], at);
    let status: Json =
        serde_json::from_slice(&labrun.run(&["status", "short", "--json"]).stdout).unwrap();
    assert!(
        status["time_left_seconds"].as_i64().unwrap() > 7000,
        "{status}"
    );
    // --ttl starts a fresh expiry: the instance's Ignition changes, so it is replaced.
    let renewed = up(&labrun, &script, &["--ttl", "3h"]);
    let stdout = String::from_utf8_lossy(&renewed.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("instance.node") && l.contains("replace")),
        "{stdout}"
    );
    assert_eq!(state(&labrun, "short")["expires"]["ttl"], 10800);
}

#[tokio::test(flavor = "multi_thread")]
async fn down_expired_removes_what_is_left_of_expired_labs_only() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let (_dir, script) = script();
    up(&labrun, &script, &["--var", "name=old", "--ttl", "1s"]);
    up(&labrun, &script, &["--var", "name=fresh"]);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let ls: Json = serde_json::from_slice(&labrun.run(&["ls", "--json"]).stdout).unwrap();
    let left = |lab: &str| {
        ls.as_array()
            .unwrap()
            .iter()
            .find(|l| l["lab"] == lab)
            .unwrap()["time_left_seconds"]
            .as_i64()
            .unwrap()
    };
    assert!(left("old") <= 0 && left("fresh") > 7000, "{ls}");
    let listed = labrun.run(&["ls"]);
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("expired"),
        "{}",
        text(&listed)
    );
    let out = labrun.run(&["down", "--expired", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Expired: old\n"),
        "{}",
        text(&out)
    );
    assert_eq!(tagged(&moto, "old").await, Vec::<String>::new());
    assert_eq!(tagged(&moto, "fresh").await.len(), 3);
    assert!(!labrun.lab_dir("old").join("state.json").exists());
    assert!(labrun.lab_dir("fresh").join("state.json").exists());
    let again = labrun.run(&["down", "--expired", "--yes"]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("No lab has expired."),
        "{}",
        text(&again)
    );
}

/// A lab whose state folder is deleted; its name is longer than the columns.
const ORPHAN: &str = "orphan-lab-with-a-long-name";

#[tokio::test(flavor = "multi_thread")]
async fn ls_finds_a_lab_without_state_by_its_tag_and_prices_it() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let (_dir, script) = script();
    up(&labrun, &script, &["--var", "name=kept"]);
    up(&labrun, &script, &["--var", &format!("name={ORPHAN}")]);
    let hourly = state(&labrun, ORPHAN)["hourly_cost"].as_f64().unwrap();
    assert!(hourly > 0.0);
    std::fs::remove_dir_all(labrun.lab_dir(ORPHAN)).unwrap();

    let out = labrun.run(&["ls"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = |lab: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{lab} ")))
            .unwrap_or_else(|| panic!("no {lab} in\n{stdout}"))
            .to_string()
    };
    assert!(line(ORPHAN).contains("found by tag"), "{stdout}");
    assert!(!line("kept").contains("found by tag"), "{stdout}");
    for lab in ["kept", ORPHAN] {
        assert!(line(lab).contains(&format!("${hourly:.4}")), "{stdout}");
    }
    // A long name widens its column: every row's region starts under the header's.
    let header = stdout.lines().next().unwrap();
    let column = header.find("region").unwrap();
    for lab in ["kept", ORPHAN] {
        assert_eq!(line(lab).find("us-east-1"), Some(column), "{stdout}");
    }

    let ls: Json = serde_json::from_slice(&labrun.run(&["ls", "--json"]).stdout).unwrap();
    let labs = ls.as_array().unwrap();
    assert_eq!(labs.len(), 2, "{ls}");
    let orphan = labs.iter().find(|l| l["lab"] == ORPHAN).unwrap();
    assert_eq!(orphan["found_by_tag"], true);
    assert_eq!(orphan["resource_count"], 3);
    assert_eq!(orphan["region"], "us-east-1");
    // Priced from what the account holds: the same as the state said.
    assert!(
        (orphan["hourly"].as_f64().unwrap() - hourly).abs() < 5e-5,
        "{orphan}"
    );
    assert!(orphan["cost_so_far"].as_f64().unwrap() >= 0.0);
    let kept = labs.iter().find(|l| l["lab"] == "kept").unwrap();
    assert_eq!(kept["found_by_tag"], false);
    // `--local` makes no AWS call and lists only what has a state here.
    let local: Json =
        serde_json::from_slice(&labrun.run(&["ls", "--json", "--local"]).stdout).unwrap();
    assert_eq!(local.as_array().unwrap().len(), 1);

    // down works on the lab found only by its tag.
    let out = labrun.run(&["down", ORPHAN, "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(tagged(&moto, ORPHAN).await, Vec::<String>::new());
}

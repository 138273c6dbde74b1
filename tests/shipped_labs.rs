//! The shipped labs are built into the binary: `labrun plan kube.lua` works
//! from any folder, a lab of your own wins over a shipped one, `labrun labs`
//! lists them with their cost, `labrun new` copies one out to edit.

mod common;

use common::{Labrun, Moto, text};
use std::path::Path;
use std::process::Output;

fn run_in(labrun: &Labrun, dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = labrun.command(args);
    c.current_dir(dir);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn shipped() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(common::repo().join("labs"))
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".lua").map(String::from)
        })
        .collect();
    names.sort();
    names
}

#[test]
fn shipped_labs_plan_from_any_folder_and_local_labs_win() {
    let labrun = Labrun::offline();
    let empty = tempfile::tempdir().unwrap();
    for name in shipped() {
        for arg in [name.clone(), format!("{name}.lua")] {
            let out = run_in(&labrun, empty.path(), &["plan", &arg], &[]);
            assert!(out.status.success(), "plan {arg}: {}", text(&out));
            assert!(stdout(&out).contains("(built in):"), "{}", text(&out));
        }
    }

    // ./labs/nat.lua beats the shipped nat; LABRUN_PATH is searched after ./labs.
    let here = tempfile::tempdir().unwrap();
    let nat = std::fs::read_to_string(common::repo().join("labs/nat.lua")).unwrap();
    let mine = nat.replace("\"t4g.nano\"", "\"t4g.micro\"");
    std::fs::create_dir(here.path().join("labs")).unwrap();
    std::fs::write(here.path().join("labs/nat.lua"), &mine).unwrap();
    let out = run_in(&labrun, here.path(), &["plan", "nat", "--json"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        plan["script"].as_str().unwrap().ends_with("labs/nat.lua"),
        "{plan}"
    );
    assert!(
        plan.to_string().contains("t4g.micro"),
        "the local copy was planned"
    );

    let other = tempfile::tempdir().unwrap();
    std::fs::write(
        other.path().join("mylab.lua"),
        mine.replace("\"nat\")", "\"mylab\")"),
    )
    .unwrap();
    let out = run_in(
        &labrun,
        empty.path(),
        &["plan", "mylab"],
        &[("LABRUN_PATH", other.path())],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).contains("mylab.lua):"), "{}", text(&out));

    let out = run_in(&labrun, empty.path(), &["plan", "nope"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    for name in shipped() {
        assert!(err.contains(&name), "the error lists {name}: {err}");
    }
}

#[test]
fn labs_lists_every_shipped_lab_with_its_cost_and_new_copies_one() {
    let labrun = Labrun::offline();
    let dir = tempfile::tempdir().unwrap();
    // Prices need no network: not even the lookup of the user's address
    // (here a port nothing listens on).
    let port = common::sshd::free_port("127.0.0.1");
    let out = labrun
        .command(&["labs", "--json"])
        .current_dir(dir.path())
        .env("LABRUN_CHECKIP_URL", format!("http://127.0.0.1:{port}/"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("pki:"), "{}", text(&out));
    let labs: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = labs.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, shipped());
    for lab in &labs {
        assert_eq!(lab["source"], "built in");
        assert!(lab["hourly"].as_f64().unwrap() > 0.0, "{lab}");
        assert!(!lab["description"].as_str().unwrap().is_empty(), "{lab}");
    }
    let out = run_in(&labrun, dir.path(), &["labs"], &[]);
    assert!(
        stdout(&out).contains("nat") && stdout(&out).contains("$0.0209"),
        "{}",
        text(&out)
    );
    assert!(
        !labrun.lab_dir("nat").join("secrets.json").exists(),
        "listing saved keys"
    );

    let out = run_in(&labrun, dir.path(), &["new", "nat", "x.lua"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(dir.path().join(".luarc.json").exists());
    let copy = std::fs::read_to_string(dir.path().join("x.lua")).unwrap();
    assert!(copy.contains("Copied from labrun"), "{copy}");
    let plan = |lab: &str| {
        let out = run_in(&labrun, dir.path(), &["plan", lab, "--json"], &[]);
        assert!(out.status.success(), "{}", text(&out));
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_object_mut().unwrap().remove("script");
        v
    };
    assert_eq!(
        plan("x.lua"),
        plan("nat"),
        "the copy plans like the built-in lab"
    );
    let out = run_in(&labrun, dir.path(), &["new", "nat", "x.lua"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("x.lua")).unwrap(),
        copy
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_built_in_lab_goes_down_by_name_from_anywhere() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let a = tempfile::tempdir().unwrap();
    let out = run_in(&labrun, a.path(), &["nat.lua", "--yes"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(labrun.lab_dir("nat").join("state.json")).unwrap())
            .unwrap();
    assert_eq!(state["script"], "builtin:nat.lua");
    let b = tempfile::tempdir().unwrap();
    let out = run_in(&labrun, b.path(), &["down", "nat", "--yes"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(common::tagged(&moto, "nat").await.is_empty());
}

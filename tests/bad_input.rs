//! Broken scripts exit 2, name `file:line`, and send nothing to AWS.

mod common;

use common::{Labrun, Moto, text};

#[test]
fn every_broken_script_exits_2_naming_file_and_line_and_creates_nothing() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let dir = common::repo().join("tests/fixtures/labs/broken");
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    scripts.sort();
    assert!(scripts.len() >= 8);
    for path in scripts {
        let rel = path
            .strip_prefix(common::repo())
            .unwrap()
            .display()
            .to_string();
        let body = std::fs::read_to_string(&path).unwrap();
        let expect = body
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("-- expect: "))
            .expect("-- expect: header");
        let out = labrun.run(&["up", &rel, "--yes"]);
        assert_eq!(out.status.code(), Some(2), "{rel}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("{rel}:{expect}")),
            "{rel}: expected `{rel}:{expect}` in:\n{err}"
        );
        let plan = labrun.run(&["plan", &rel]);
        assert_eq!(plan.status.code(), Some(2), "plan {rel}: {}", text(&plan));
    }
    assert_eq!(moto.recorded().len(), 0, "no API call for bad input");
}

#[test]
fn runtime_errors_carry_a_traceback_through_stdlib_helpers() {
    let labrun = Labrun::offline();
    let dir = tempfile::tempdir().unwrap();
    let path = common::script(
        dir.path(),
        "lab.lua",
        "local coreos = require 'labrun.coreos'\nlocal lab = labrun.lab { name = 'x' }\nlocal function f() return coreos.mode(nil) end\nf()\n",
    );
    let out = labrun.run(&["plan", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stdlib/labrun/coreos.lua:"), "{err}");
    assert!(
        err.contains("stack traceback:") && err.contains("lab.lua:4:"),
        "{err}"
    );
}

#[test]
fn unknown_vars_and_missing_labs_are_input_errors() {
    let labrun = Labrun::offline();
    let out = labrun.run(&["plan", "labs/nat.lua", "--var", "tpye=t3.nano"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--var tpye given but the script never reads it")
    );
    let out = labrun.run(&["plan", "nosuchlab"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no lab script named 'nosuchlab'"));
    let out = labrun.run(&["plan", "labs/nat.lua", "--var", "novalue"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

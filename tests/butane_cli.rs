//! `labrun butane`, the drop-in for the official Butane CLI.

mod common;

use common::fixtures::files;
use common::{Labrun, text};
use labrun::ignition::{Options, to_json_string, translate_yaml};
use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;

fn fixtures() -> PathBuf {
    common::repo().join("tests/fixtures/butane")
}

#[test]
fn every_fixture_translates_as_the_library_does_from_file_stdin_and_to_out() {
    let labrun = Labrun::offline();
    let dir = fixtures();
    let d = dir.to_str().unwrap();
    let opts = Options {
        files_dir: Some(dir.clone()),
        strict: true,
    };
    let sources = files(&dir, "bu");
    assert!(sources.len() >= 14);
    for bu in sources {
        let path = bu.to_str().unwrap();
        let yaml = std::fs::read_to_string(&bu).unwrap();
        let expected = to_json_string(&translate_yaml("", &yaml, &opts).unwrap()) + "\n";

        let out = labrun.run(&["butane", "--strict", "-d", d, path]);
        assert!(out.status.success(), "{path}: {}", text(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{path}");

        let mut child = labrun
            .command(&["butane", "--files-dir", d, "--strict"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(yaml.as_bytes())
            .unwrap();
        let piped = child.wait_with_output().unwrap();
        assert!(piped.status.success(), "{path} on stdin: {}", text(&piped));
        assert_eq!(String::from_utf8_lossy(&piped.stdout), expected, "{path}");

        let target = labrun.home.path().join("out.ign");
        let t = target.to_str().unwrap();
        let written = labrun.run(&["butane", "-p", "-d", d, "-o", t, path]);
        assert!(written.status.success(), "{path}: {}", text(&written));
        assert!(written.stdout.is_empty(), "-o writes nothing to stdout");
        let pretty = std::fs::read_to_string(&target).unwrap();
        assert!(pretty.starts_with("{\n  \"ignition\": {\n"), "{pretty}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&pretty).unwrap(),
            serde_json::from_str::<serde_json::Value>(&expected).unwrap(),
            "{path}: --pretty changes only the layout"
        );
    }
}

#[test]
fn invalid_configs_exit_2_naming_the_json_path_line_and_column() {
    let labrun = Labrun::offline();
    let dir = fixtures().join("invalid");
    let d = dir.to_str().unwrap();
    let sources = files(&dir, "bu");
    assert!(sources.len() >= 9);
    for bu in sources {
        let path = bu.to_str().unwrap();
        let official = std::fs::read_to_string(bu.with_extension("err")).unwrap();
        let out = labrun.run(&["butane", "--strict", "-d", d, path]);
        assert_eq!(out.status.code(), Some(2), "{path}: {}", text(&out));
        assert!(out.stdout.is_empty(), "{path}: no output on error");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(path), "{path}: names the file: {err}");
        // "error at $.storage.files.0.mode, line 6 col 13: ..." → the place
        // of the first error, or in strict mode of the first warning.
        let lines = || official.lines();
        let first = lines()
            .find(|l| l.starts_with("error at "))
            .or_else(|| lines().find(|l| l.starts_with("warning at ")))
            .unwrap_or_default();
        if let Some((_, rest)) = first.split_once(" at ") {
            let place = rest.split(": ").next().unwrap();
            assert!(err.contains(place), "{path}: expected `{place}` in {err}");
        }
    }
}

#[test]
fn warnings_go_to_stderr_and_fail_only_with_strict() {
    let labrun = Labrun::offline();
    let bu = fixtures().join("invalid/02-unknown-key.bu");
    let path = bu.to_str().unwrap();
    let out = labrun.run(&["butane", path]);
    assert!(out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{path}: warning at $.storage.files.0.mdoe, line 6 col 7: unused key mdoe"
        )),
        "{err}"
    );
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(config["ignition"]["version"], "3.5.0");
    assert_eq!(labrun.run(&["butane", "-s", path]).status.code(), Some(2));
    let missing = labrun.run(&["butane", "/nonexistent.bu"]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
}

#[test]
fn version_check_and_raw_flags_behave_as_the_official_cli() {
    let labrun = Labrun::offline();
    for flag in ["--version", "-V"] {
        let out = labrun.run(&["butane", flag]);
        assert!(out.status.success(), "{}", text(&out));
        let line = String::from_utf8_lossy(&out.stdout);
        assert!(line.starts_with("Butane v0.29.0 (labrun "), "{line}");
    }

    let dir = fixtures();
    let d = dir.to_str().unwrap();
    let bu = dir.join("v1.3-boot-mirror-luks-var.bu");
    let path = bu.to_str().unwrap();
    let target = labrun.home.path().join("checked.ign");
    let t = target.to_str().unwrap();
    for flag in ["--check", "-c"] {
        let out = labrun.run(&["butane", flag, "--strict", "-d", d, "-o", t, path]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(out.stdout.is_empty(), "--check writes no config");
        assert!(!target.exists(), "--check writes no output file");
    }
    let refused = dir.join("invalid/v1.7-mirror-without-layout.bu");
    let out = labrun.run(&["butane", "--check", refused.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("error at $.boot_device.mirror, line 6 col 5"),
        "{}",
        text(&out)
    );

    let plain = labrun.run(&["butane", "-d", d, path]);
    assert!(plain.status.success(), "{}", text(&plain));
    for flag in ["--raw", "-r"] {
        let raw = labrun.run(&["butane", flag, "-d", d, path]);
        assert!(raw.status.success(), "{}", text(&raw));
        assert_eq!(
            raw.stdout, plain.stdout,
            "an fcos config is always plain Ignition"
        );
    }
}

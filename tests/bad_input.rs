//! Broken scripts exit 2, name `file:line`, and send nothing to AWS.
//!
//! The corpus is `tests/fixtures/labs/broken/*.lua`: each file (or folder)
//! says what labrun must answer in a `-- expect: LINE: message` comment
//! (`-- expect: message` when no line applies; ` ... ` stands for any text
//! between fragments), and may give arguments with `-- args: --var k=v`.

mod common;

use common::{Labrun, Moto, text};
use std::path::Path;

/// One broken lab and what labrun must say about it.
struct Case {
    /// The path given to labrun, relative to the repository.
    rel: String,
    expect: String,
    args: Vec<String>,
}

/// The comment lines `-- NAME: value` of a corpus file.
fn header(body: &str, name: &str) -> Option<String> {
    let prefix = format!("-- {name}: ");
    body.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(str::to_string)
}

/// Every corpus case, plus a lab path that does not exist.
fn corpus() -> Vec<Case> {
    let dir = common::repo().join("tests/fixtures/labs/broken");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
        .collect();
    paths.sort();
    let rel = |p: &Path| {
        p.strip_prefix(common::repo())
            .unwrap()
            .display()
            .to_string()
    };
    let mut cases: Vec<Case> = paths
        .iter()
        .map(|p| {
            let body = if p.is_dir() {
                std::fs::read_to_string(p.join("expect")).unwrap()
            } else {
                std::fs::read_to_string(p).unwrap()
            };
            Case {
                rel: rel(p),
                expect: header(&body, "expect")
                    .unwrap_or_else(|| panic!("{}: no `-- expect:` comment", p.display())),
                args: header(&body, "args")
                    .map(|a| a.split_whitespace().map(String::from).collect())
                    .unwrap_or_default(),
            }
        })
        .collect();
    cases.push(Case {
        rel: rel(&dir.join("no-such-lab.lua")),
        expect: "no such lab script".into(),
        args: Vec::new(),
    });
    cases
}

/// Whether `err` says `expect` about the file `rel`: its first fragment
/// right after `rel:` (or `rel: ` when it names no line; anywhere after
/// `rel` when it starts with `... `), the others after it in order.
fn says(err: &str, rel: &str, expect: &str) -> bool {
    let (lead, rest) = match expect.strip_prefix("... ") {
        Some(rest) => (rel.to_string(), rest),
        None => {
            let (first, rest) = expect.split_once(" ... ").unwrap_or((expect, ""));
            let sep = if first.starts_with(|c: char| c.is_ascii_digit()) {
                ":"
            } else {
                ": "
            };
            (format!("{rel}{sep}{first}"), rest)
        }
    };
    let Some(at) = err.find(&lead) else {
        return false;
    };
    let mut after = &err[at + lead.len()..];
    for part in rest.split(" ... ").filter(|p| !p.is_empty()) {
        match after.find(part) {
            Some(i) => after = &after[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// `up --yes` and `plan` of one case: exit 2, the expected message, no panic.
fn check(labrun: &Labrun, case: &Case) -> Result<(), String> {
    for verb in [&["up", "--yes"][..], &["plan"][..]] {
        let mut args: Vec<&str> = verb.to_vec();
        args.insert(1, &case.rel);
        args.extend(case.args.iter().map(String::as_str));
        let out = labrun.run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("panicked at") || out.status.code() == Some(101) {
            return Err(format!("{args:?} panicked: {}", text(&out)));
        }
        if out.status.code() != Some(2) {
            return Err(format!("{args:?}: exit 2 expected: {}", text(&out)));
        }
        if !says(&err, &case.rel, &case.expect) {
            return Err(format!(
                "{args:?}: expected `{}` then `{}` in:\n{err}",
                case.rel, case.expect
            ));
        }
    }
    Ok(())
}

/// Checks `cases`, then that moto saw no call at all.
fn check_all(cases: &[&Case]) {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| check(&labrun, c).err().map(|e| format!("{}: {e}", c.rel)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    let calls = moto.recorded();
    assert!(calls.is_empty(), "bad input reached AWS: {calls:?}");
}

#[test]
fn every_broken_script_exits_2_naming_file_and_line_and_creates_nothing() {
    let all = corpus();
    assert!(all.len() >= 30, "{} cases", all.len());
    check_all(&all.iter().collect::<Vec<_>>());
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
    assert!(String::from_utf8_lossy(&out.stderr).contains("no lab named 'nosuchlab'"));
    let out = labrun.run(&["plan", "labs/nat.lua", "--var", "novalue"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn a_helpers_error_names_the_lab_scripts_line_however_long_its_path() {
    let labrun = Labrun::offline();
    let dir = tempfile::tempdir().unwrap();
    let deep = dir
        .path()
        .join("a-folder-with-a-long-name/and-another-long-one/labs");
    std::fs::create_dir_all(&deep).unwrap();
    let path = common::script(
        &deep,
        "lab.lua",
        "local coreos = require 'labrun.coreos'\nlocal lab = labrun.lab { name = 'x' }\nlocal cfg = coreos.config { hostnmae = 'n' }\n",
    );
    let path = path.to_str().unwrap();
    assert!(path.len() > 60, "longer than Lua's short names: {path}");
    let out = labrun.run(&["plan", path]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "error: {path}:3: coreos.config: unknown option 'hostnmae'"
        )),
        "{err}"
    );
}

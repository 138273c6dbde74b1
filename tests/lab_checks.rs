//! Checks in `up` and `labrun check`, on a lab whose node is a real sshd
//! on loopback (tests/common/standin_nodes.rs) with a stand-in `curl`: a
//! failing check makes `up` print ✗ without failing it, and `labrun check`
//! exit 1; `--watch` runs them again until Ctrl-C.

mod common;

use common::standin_nodes::{StandinNode, calls, loopback, node_hosts};
use common::{Labrun, text};
use labrun::session::node_hosts::VAR;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

const SCRIPT: &str = r#"
local lab = labrun.lab { name = "checked" }
local user = labrun.ssh.user_key()
local host_key = labrun.ssh.host_key("node")
labrun.ssh.node("node", { host = "127.0.0.1", host_key = host_key.public })
labrun.after_up("prepare", function(live) live.nodes.node:run("true") end)
labrun.check("node-answers", function(live) live.nodes.node:run("true") end)
labrun.check("internet", function(live)
  local r = live.nodes.node:run("curl -sS -o /dev/null https://example.org", { check = false })
  if not r.ok then return r.stderr:match("[^\n]*") end
end, { after = "node-answers" })
"#;

const OFFLINE: &str = "echo 'curl: (7) Failed to connect to example.org port 443' >&2; exit 7";

struct Setup {
    labrun: Labrun,
    script: std::path::PathBuf,
    node: StandinNode,
    record: tempfile::TempDir,
    _dir: tempfile::TempDir,
}

/// The lab's keys made (plan), its node stood in for on loopback with a
/// `curl` that cannot connect.
fn setup() -> Setup {
    let labrun = Labrun::offline();
    let dir = tempfile::tempdir().unwrap();
    let script = common::script(dir.path(), "checked.lua", SCRIPT);
    let out = labrun.run(&["plan", script.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let record = tempfile::tempdir().unwrap();
    let node = StandinNode::plain(&labrun, "checked", "node", &loopback(60), record.path());
    node.command("curl", OFFLINE);
    Setup {
        labrun,
        script,
        node,
        record,
        _dir: dir,
    }
}

impl Setup {
    /// `labrun up` with its checks on (the harness turns them off), the
    /// node at its stand-in.
    fn up(&self, extra: &[&str]) -> std::process::Output {
        let mut args = vec!["up", self.script.to_str().unwrap(), "--yes"];
        args.extend(extra);
        let mut cmd = self.labrun.command(&args);
        cmd.env(VAR, node_hosts(std::slice::from_ref(&self.node)))
            .env_remove("LABRUN_NO_CHECKS");
        cmd.output().unwrap()
    }
}

#[test]
fn a_failing_check_marks_up_but_does_not_fail_it_and_labrun_check_exits_1() {
    let s = setup();
    let out = s.up(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("✓ node-answers ("), "{stdout}");
    assert!(
        stdout.contains("✗ internet (")
            && stdout.contains("): curl: (7) Failed to connect to example.org port 443"),
        "{stdout}"
    );
    assert!(
        stdout.contains("✗ 1 of 2 checks failed: lab checked is up, its resources are fine, but it does not work as it should; `labrun check checked` runs them again."),
        "{stdout}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("✓ step prepare"),
        "checks come after the steps: {err}"
    );

    // On demand, by the lab's name: its state says which script.
    let out = s.labrun.run(&["check", "checked"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("✗ internet ("));

    s.node.command("curl", "exit 0");
    let out = s.labrun.run(&["check", "checked"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("✓ internet (") && !stdout.contains('✗'),
        "{stdout}"
    );

    // `up --json` carries them in its one document.
    s.node.command("curl", OFFLINE);
    let out = s.up(&["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let checks: Vec<(&str, &str)> = (doc["checks"].as_array().unwrap().iter())
        .map(|c| (c["name"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(checks, [("node-answers", "passed"), ("internet", "failed")]);

    // --no-checks leaves them out of up.
    let out = s.up(&["--no-checks"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("internet"),
        "{}",
        text(&out)
    );

    // The node is down: the checks say so, in time.
    let address = s.node.sshd.target.host.clone();
    let Setup { labrun, node, .. } = s;
    drop(node);
    let out = labrun.run(&["check", "checked", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reason = v[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("could not reach") && reason.contains(&address),
        "{reason}"
    );
    assert_eq!(v[1]["reason"], "not run, node-answers failed");
}

#[test]
fn watch_runs_the_checks_again_until_ctrl_c() {
    let s = setup();
    let out = s.up(&["--no-checks"]);
    assert!(out.status.success(), "{}", text(&out));
    let mut child = s
        .labrun
        .command(&["check", "checked", "--watch", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut rounds = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.starts_with("checks of lab checked at ") {
            rounds.push(Vec::new());
        } else if let Some(round) = rounds.last_mut() {
            round.push(line.clone());
        }
        // The first round fails; then the node gets online.
        if line.starts_with("✗ 1 of 2 checks failed") && rounds.len() == 1 {
            s.node.command("curl", "exit 0");
        }
        if rounds.len() == 3 {
            break;
        }
    }
    // SAFETY: signalling the child this test started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "the last round passed");
    assert!(
        rounds[0].iter().any(|l| l.contains("✗ internet (")),
        "{rounds:?}"
    );
    assert!(
        rounds[1].iter().any(|l| l.contains("✓ internet (")),
        "{rounds:?}"
    );
    let curls = (calls(s.record.path()).iter())
        .filter(|c| c.starts_with("node curl "))
        .count();
    assert!(curls >= 2, "the node was asked again: {curls}");
}

#[test]
fn checks_of_a_lab_that_is_not_up_or_of_unknown_names_are_refused() {
    let labrun = Labrun::offline();
    let dir = tempfile::tempdir().unwrap();
    let script = common::script(
        dir.path(),
        "typo.lua",
        "local lab = labrun.lab { name = \"typo\" }\nlabrun.check(\"b\", function() end, { after = \"a\" })\n",
    );
    let out = labrun.run(&["plan", script.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("typo.lua:2: check 'b' waits for 'a', which is not a declared check"),
        "{}",
        text(&out)
    );
    let out = labrun.run(&["check", script.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = labrun.run(&["check", "labs/nat.lua"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("lab nat is not up: `labrun up` it first"),
        "{}",
        text(&out)
    );
    assert!(
        !labrun.lab_dir("nat").exists(),
        "checking a lab that is not up keeps nothing"
    );
}

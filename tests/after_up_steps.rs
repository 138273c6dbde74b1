//! After-up steps: independent steps run at the same time, each finished
//! step is recorded, and the next `up` reruns only what did not finish.

mod common;

use common::{Labrun, text};
use std::path::Path;

/// Steps `a` and `b` each wait (up to their 5 s timeout) for the other to
/// have started: they pass only when run at the same time. `c` waits for
/// both and fails while the file `fail` exists. Each step appends its name
/// to `runs` when it ends well.
const SCRIPT: &str = r#"
local lab = labrun.lab { name = "steps" }
local dir = labrun.var("dir", "")
local function touch(name) local f = assert(io.open(dir .. "/" .. name, "w")); f:close() end
local function exists(name) local f = io.open(dir .. "/" .. name); if f then f:close() end; return f ~= nil end
local function ran(name) local f = assert(io.open(dir .. "/runs", "a")); f:write(name, "\n"); f:close() end
local function meet(me, other)
  touch("started-" .. me)
  while not exists("started-" .. other) do labrun.sleep(0.05) end
  ran(me)
end
labrun.after_up("a", function() meet("a", "b") end, { timeout = 5 })
labrun.after_up("b", function() meet("b", "a") end, { timeout = 5 })
labrun.after_up("c", function(live)
  assert(live.lab == "steps")
  if exists("fail") then error("c failed on purpose") end
  ran("c")
end, { after = { "a", "b" } })
"#;

fn runs(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("runs"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn a_failed_step_reruns_alone_and_independent_steps_run_together() {
    let labrun = Labrun::offline();
    let dir = tempfile::tempdir().unwrap();
    let script = common::script(dir.path(), "steps.lua", SCRIPT);
    let var = format!("dir={}", dir.path().display());
    let up = || labrun.run(&["up", script.to_str().unwrap(), "--yes", "--var", &var]);

    std::fs::write(dir.path().join("fail"), "").unwrap();
    let out = up();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("✗ step c:") && err.contains("c failed on purpose"),
        "{err}"
    );
    assert!(
        err.contains("steps.lua:16"),
        "the error names the line: {err}"
    );
    let mut first = runs(dir.path());
    first.sort();
    assert_eq!(
        first,
        ["a", "b"],
        "a and b met, so they ran at the same time"
    );
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(labrun.lab_dir("steps").join("state.json")).unwrap())
            .unwrap();
    let mut done: Vec<&str> = (state["done_steps"].as_array().unwrap().iter())
        .map(|v| v.as_str().unwrap())
        .collect();
    done.sort();
    assert_eq!(done, ["a", "b"], "each finished step is recorded");

    std::fs::remove_file(dir.path().join("fail")).unwrap();
    let out = up();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(runs(dir.path())[2..], ["c"], "only c ran again");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("✓ step c") && !err.contains("step a"), "{err}");

    let out = up();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(runs(dir.path()).len(), 3, "nothing runs once all are done");
}

#[test]
fn a_step_that_waits_alone_for_a_partner_fails_at_its_deadline() {
    let labrun = Labrun::offline();
    let dir = tempfile::tempdir().unwrap();
    let script = common::script(
        dir.path(),
        "lonely.lua",
        r#"
local lab = labrun.lab { name = "lonely" }
labrun.after_up("wait", function() while true do labrun.sleep(0.05) end end, { timeout = 1 })
labrun.after_up("later", function() end, { after = "wait" })
"#,
    );
    let out = labrun.run(&["up", script.to_str().unwrap(), "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("✗ step wait: did not finish within 1 s"),
        "{err}"
    );
    assert!(err.contains("step later: not run, wait failed"), "{err}");
}

#[test]
fn steps_waiting_for_unknown_steps_are_refused_at_their_line() {
    let labrun = Labrun::offline();
    let dir = tempfile::tempdir().unwrap();
    let script = common::script(
        dir.path(),
        "typo.lua",
        "local lab = labrun.lab { name = \"typo\" }\nlabrun.after_up(\"join\", function() end, { after = \"int\" })\n",
    );
    let out = labrun.run(&["plan", script.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("typo.lua:2: after_up 'join' waits for 'int', which is not a declared step"),
        "{err}"
    );
}

//! SIGKILL at many moments of `up`: `down` still leaves nothing behind, and
//! `up` after a crash finishes the lab without duplicates.

mod common;

use common::{Labrun, Moto, tagged, text};
use std::io::{BufRead, BufReader};
use std::process::Stdio;

/// Starts `up` of the NAT lab named `lab` and SIGKILLs it after `lines` progress lines.
fn up_and_kill(labrun: &Labrun, lab: &str, lines: usize) -> Vec<String> {
    let var = format!("name={lab}");
    let mut child = labrun
        .command(&["up", "labs/nat.lua", "--yes", "--var", &var])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.trim_start().starts_with("+ ") {
            seen.push(line);
            if seen.len() == lines {
                child.kill().unwrap(); // SIGKILL
                break;
            }
        }
    }
    child.wait().unwrap();
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_at_any_moment_then_down_leaves_nothing() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    for lines in [1, 2, 3, 5, 8, 12, 17, 21, 24] {
        let lab = format!("crash{lines}");
        let seen = up_and_kill(&labrun, &lab, lines);
        assert_eq!(
            seen.len(),
            lines,
            "up ended before {lines} progress lines: {seen:?}"
        );
        let out = labrun.run(&["down", &lab, "--yes"]);
        assert!(
            out.status.success(),
            "killed after {:?}: {}",
            seen.last(),
            text(&out)
        );
        assert_eq!(
            tagged(&moto, &lab).await,
            Vec::<String>::new(),
            "killed after {:?}",
            seen.last()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn up_after_a_crash_completes_the_lab_without_duplicates() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    for lines in [3, 9, 15] {
        let lab = format!("resume{lines}");
        up_and_kill(&labrun, &lab, lines);
        let var = format!("name={lab}");
        let out = labrun.run(&["up", "labs/nat.lua", "--yes", "--var", &var]);
        assert!(out.status.success(), "{}", text(&out));
        let left = tagged(&moto, &lab).await;
        assert_eq!(
            left.len(),
            14,
            "exactly the 14 resources of the lab: {left:?}"
        );
        let again = labrun.run(&["up", "labs/nat.lua", "--yes", "--var", &var]);
        assert!(
            String::from_utf8_lossy(&again.stdout).contains("No changes"),
            "{}",
            text(&again)
        );
        assert!(labrun.run(&["down", &lab, "--yes"]).status.success());
        assert_eq!(tagged(&moto, &lab).await, Vec::<String>::new());
    }
}

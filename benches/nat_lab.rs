//! The NAT lab up and down against a local moto_server: wall time (median of
//! 5), API calls per command, and the longest chain of dependent resources.
//!
//! Run with `cargo bench --bench nat_lab` (after `.ci/setup`).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

/// "N API calls (M changes)" from labrun's summary line.
fn calls(out: &std::process::Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(at) = text.find(" API calls") else {
        return "?".into();
    };
    let before = &text[..at];
    let n = &before[before
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1)..];
    let after = &text[at..];
    let changes = after
        .split_once('(')
        .and_then(|(_, r)| r.split_once(' '))
        .map_or("?", |(m, _)| m);
    format!("{n} API calls ({changes} changes)")
}

fn main() {
    let moto = common::Moto::start();
    let labrun = common::Labrun::new(&moto);
    let graph = labrun.run(&["graph", "labs/nat.lua"]);
    let first = String::from_utf8_lossy(&graph.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    println!("{}", first.trim_start_matches("// "));
    let (mut ups, mut downs) = (Vec::new(), Vec::new());
    for round in 1..=5 {
        let t = Instant::now();
        let up = labrun.run(&["up", "labs/nat.lua", "--yes"]);
        ups.push(t.elapsed().as_secs_f64());
        assert!(up.status.success(), "{}", common::text(&up));
        let t = Instant::now();
        let down = labrun.run(&["down", "nat", "--yes"]);
        downs.push(t.elapsed().as_secs_f64());
        assert!(down.status.success(), "{}", common::text(&down));
        println!(
            "round {round}: up {:.2}s [{}], down {:.2}s [{}]",
            ups[round - 1],
            calls(&up),
            downs[round - 1],
            calls(&down)
        );
    }
    println!(
        "median of 5: up {:.2}s, down {:.2}s (wall time of the labrun process, moto on loopback)",
        common::median(ups),
        common::median(downs)
    );
}

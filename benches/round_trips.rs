//! Sequential round trips of the NAT lab's `up` and `down`: each is run
//! through the fault proxy (no faults) at 0 ms and at 200 ms per API call,
//! after a warm-up cycle, and round trips = (wall at 200 ms − wall at 0 ms) /
//! 200 ms: how many calls the command waits for one after another. Also the
//! API calls each makes (as the proxy saw them) and the lab's longest chain
//! of dependent resources (`labrun graph`).
//!
//! `cargo bench --bench round_trips` (release), or with a debug labrun:
//! `cargo bench --profile dev --bench round_trips`; the figures are wall time
//! minus wall time, so labrun's own speed mostly cancels out.
//! `LABRUN_BENCH_ROUNDS` sets the rounds per latency (default 5; medians are shown).

#[path = "../tests/common/mod.rs"]
mod common;

use common::{FaultProxy, Labrun, Moto, median, text};
use std::time::Instant;

const LATENCIES_MS: [u64; 2] = [0, 200];

/// One command's wall time (s) and API calls, per round.
#[derive(Default)]
struct Runs {
    walls: Vec<f64>,
    calls: Vec<usize>,
}

/// Runs `args`, returning its wall time and the calls the proxy saw.
fn timed(labrun: &Labrun, proxy: &FaultProxy, args: &[&str]) -> (f64, usize) {
    proxy.clear_log();
    let t = Instant::now();
    let out = labrun.run(args);
    let wall = t.elapsed().as_secs_f64();
    assert!(out.status.success(), "{args:?}: {}", text(&out));
    (wall, proxy.calls().len())
}

fn main() {
    let rounds: usize = std::env::var("LABRUN_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let moto = Moto::start();
    let graph = Labrun::offline().run(&["graph", "labs/nat.lua", "--json"]);
    let graph: serde_json::Value = serde_json::from_slice(&graph.stdout).expect("graph --json");
    let chain: Vec<&str> = graph["longest_chain"]
        .as_array()
        .expect("longest_chain")
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    let up = ["up", "labs/nat.lua", "--yes", "--var", "name=bench"];
    let down = ["down", "bench", "--yes"];
    // One proxy and one labrun home per latency; rounds alternate between
    // them so moto's growing history weighs on both alike.
    let sides: Vec<(FaultProxy, Labrun)> = LATENCIES_MS
        .iter()
        .map(|&ms| {
            let proxy = FaultProxy::start(&moto, 0.0, ms, 0);
            let labrun = Labrun::at(proxy.url());
            (proxy, labrun)
        })
        .collect();
    for (proxy, labrun) in &sides {
        timed(labrun, proxy, &up);
        timed(labrun, proxy, &down);
    }
    let mut ups: Vec<Runs> = LATENCIES_MS.iter().map(|_| Runs::default()).collect();
    let mut downs: Vec<Runs> = LATENCIES_MS.iter().map(|_| Runs::default()).collect();
    for round in 1..=rounds {
        for (i, (proxy, labrun)) in sides.iter().enumerate() {
            let (uw, uc) = timed(labrun, proxy, &up);
            let (dw, dc) = timed(labrun, proxy, &down);
            println!(
                "round {round} at {:>3} ms/call: up {uw:.2}s ({uc} calls), down {dw:.2}s ({dc} calls)",
                LATENCIES_MS[i]
            );
            ups[i].walls.push(uw);
            ups[i].calls.push(uc);
            downs[i].walls.push(dw);
            downs[i].calls.push(dc);
        }
    }
    let step = (LATENCIES_MS[1] - LATENCIES_MS[0]) as f64 / 1000.0;
    println!(
        "\nNAT lab, medians of {rounds} rounds after a warm-up cycle (moto on loopback, through the fault proxy):"
    );
    println!(
        "| command | API calls | wall at 0 ms | wall at 200 ms | round trips | longest chain |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, runs) in [("up", &ups), ("down", &downs)] {
        let w0 = median(runs[0].walls.clone());
        let w200 = median(runs[1].walls.clone());
        let calls = median(runs[1].calls.iter().map(|&c| c as f64).collect());
        println!(
            "| {name} | {calls} | {w0:.2} s | {w200:.2} s | {:.1} | {} stages |",
            (w200 - w0) / step,
            chain.len()
        );
    }
    println!("longest chain: {}", chain.join(" -> "));
}

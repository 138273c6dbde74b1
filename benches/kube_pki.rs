//! The whole Kubernetes PKI for three control nodes (RSA-4096 CAs, RSA-2048
//! leaves, as the write-up) made by labrun's `generate_set`, against
//! `openssl genrsa` processes making the same keys with the same
//! parallelism (biggest first, one worker per core). Prints both times per
//! round, the medians and their ratio (target: at most 1.0).
//!
//! `cargo bench --bench kube_pki` (ROUNDS=n to change the number of rounds);
//! `cargo test` runs labrun's side once as a check, untimed.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use labrun::pki::{KeySpec, Material, SetSpec, generate_set};

fn main() {
    // The set `stdlib/labrun/kube/pki.lua` declares for three nodes (a unit
    // test of the Lua host checks that they are the same).
    let spec: SetSpec = serde_json::from_str(include_str!("../src/pki/testdata/kube-3-nodes.json"))
        .expect("fixture parses");
    let mut bits: Vec<u32> = (spec.keys.values())
        .chain(spec.certs.values().map(|c| &c.key))
        .map(|key| match key {
            KeySpec::Rsa2048 => 2048,
            KeySpec::Rsa4096 => 4096,
            other => panic!("unexpected {other} key in the kube PKI"),
        })
        .collect();
    bits.sort_unstable_by(|a, b| b.cmp(a));
    if !std::env::args().any(|a| a == "--bench") {
        labrun(&spec, bits.len());
        return;
    }
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let count = |b| bits.iter().filter(|&&x| x == b).count();
    println!(
        "kube PKI, 3 nodes: {} certificates, {} keys ({} RSA-4096, {} RSA-2048), {workers} workers, {rounds} rounds",
        spec.certs.len(),
        bits.len(),
        count(4096),
        count(2048)
    );

    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate who goes first so neither always gets a cool machine.
        let (a, b) = if round % 2 == 0 {
            let a = labrun(&spec, bits.len());
            (a, openssl(&bits, workers))
        } else {
            let b = openssl(&bits, workers);
            (labrun(&spec, bits.len()), b)
        };
        println!(
            "round {round}: labrun {:>6.2} s   openssl genrsa {:>6.2} s",
            a.as_secs_f64(),
            b.as_secs_f64()
        );
        ours.push(a);
        theirs.push(b);
    }
    let (ours, theirs) = (median(ours), median(theirs));
    println!(
        "median: labrun {:.2} s, openssl genrsa {:.2} s, ratio {:.2}",
        ours.as_secs_f64(),
        theirs.as_secs_f64(),
        ours.as_secs_f64() / theirs.as_secs_f64()
    );
}

/// The whole set: keys in parallel, then every certificate signed.
fn labrun(spec: &SetSpec, keys: usize) -> Duration {
    let start = Instant::now();
    let made = generate_set(spec, &Material::default()).expect("kube PKI");
    let took = start.elapsed();
    assert_eq!(made.new_keys.len(), keys);
    assert_eq!(made.new_certs.len(), spec.certs.len());
    took
}

/// One `openssl genrsa BITS` process per key, `workers` at a time.
fn openssl(bits: &[u32], workers: usize) -> Duration {
    let start = Instant::now();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(b) = bits.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let status = Command::new("openssl")
                        .args(["genrsa", &b.to_string()])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()
                        .expect("openssl runs");
                    assert!(status.success());
                }
            });
        }
    });
    start.elapsed()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

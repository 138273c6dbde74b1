//! SIGKILL at many moments of `up` and of `down` (of the NAT lab, and of the
//! Kubernetes lab with stand-in nodes): `down` still leaves nothing behind,
//! and `up` after a crash finishes the lab without duplicates.

mod common;

use common::kube_standins::{Standins, render};
use common::{FaultProxy, Labrun, Moto, tagged, text};
use proptest::prelude::RngExt;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// When to SIGKILL a running labrun.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// After this many progress lines (`+ ...` for up, `- ...` for down).
    Lines(usize),
    /// After this long.
    After(Duration),
}

/// How a run of [`run_and_kill`] went.
struct Run {
    /// The progress lines it printed, each with when it came.
    progress: Vec<(Duration, String)>,
    /// It ended by itself, with success.
    succeeded: bool,
    /// All it printed on stderr.
    stderr: String,
}

/// Runs `command` and SIGKILLs it at `moment`, unless it ends first.
fn run_and_kill(mut command: Command, moment: Moment) -> Run {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let started = Instant::now();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let t = line.trim_start();
            if t.starts_with("+ ") || t.starts_with("- ") {
                // the receiver is gone once the kill is decided
                let _ = tx.send((started.elapsed(), line.clone()));
            }
            all.push(line);
        }
        all
    });
    let mut seen = Vec::new();
    loop {
        let wait = match moment {
            Moment::Lines(n) if seen.len() >= n => break,
            Moment::Lines(_) => Duration::from_secs(600),
            Moment::After(d) => match d.checked_sub(started.elapsed()) {
                Some(left) => left,
                None => break,
            },
        };
        match rx.recv_timeout(wait) {
            Ok(line) => seen.push(line),
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break, // it ended by itself
        }
    }
    let _ = child.kill(); // SIGKILL
    let status = child.wait().unwrap();
    let stderr = reader.join().unwrap().join("\n");
    Run {
        progress: seen,
        succeeded: status.success(),
        stderr,
    }
}

/// A lab the crash tests bring up and down.
#[derive(Debug, Clone, Copy)]
enum ChaosLab {
    /// labs/nat.lua: AWS only.
    Nat,
    /// labs/kube.lua (the hard way), its after-up steps run over SSH on
    /// stand-in nodes on loopback from `127.A.B.base` on
    /// (tests/common/kube_standins.rs), so that an uninterrupted `up` succeeds.
    Kube { base: u8 },
}

/// A [`ChaosLab`] under one name, ready for `up`.
struct ReadyLab<'a> {
    labrun: &'a Labrun,
    lab: ChaosLab,
    name: String,
    args: Vec<String>,
    /// The Kubernetes lab's files, rendered once: the keys they hold stay
    /// in the lab's folder from one `up` to the next.
    rendered: Option<tempfile::TempDir>,
}

impl ChaosLab {
    /// Readies the lab under `name` (the Kubernetes lab: its files rendered).
    fn ready<'a>(self, labrun: &'a Labrun, name: &str) -> ReadyLab<'a> {
        let var = format!("name={name}");
        let script = match self {
            ChaosLab::Nat => "labs/nat.lua",
            ChaosLab::Kube { .. } => "labs/kube.lua",
        };
        let args = [script, "--var", &var].map(String::from).to_vec();
        let rendered = match self {
            ChaosLab::Nat => None,
            ChaosLab::Kube { .. } => Some(render(labrun, &strs(&args))),
        };
        ReadyLab {
            labrun,
            lab: self,
            name: name.to_string(),
            args,
            rendered,
        }
    }
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

impl ReadyLab<'_> {
    /// `labrun up` of the lab, to run, with the Kubernetes lab's stand-in
    /// nodes, fresh as AWS makes its instances, serving it while they live.
    fn up(&self) -> (Command, Option<Standins>) {
        let args = strs(&self.args);
        match (self.lab, &self.rendered) {
            (ChaosLab::Kube { base }, Some(rendered)) => {
                let nodes = Standins::start(self.labrun, &self.name, rendered.path(), base, &[]);
                (nodes.up_command(self.labrun, &args), Some(nodes))
            }
            _ => (
                self.labrun.command(&[&["up", "--yes"], &args[..]].concat()),
                None,
            ),
        }
    }

    /// `labrun down` of the lab, to run.
    fn down(&self) -> Command {
        self.labrun.command(&["down", &self.name, "--yes"])
    }
}

/// Starts `up` of the NAT lab named `lab` and SIGKILLs it after `lines` progress lines.
fn up_and_kill(labrun: &Labrun, lab: &str, lines: usize) -> Vec<String> {
    let (up, _) = ChaosLab::Nat.ready(labrun, lab).up();
    let run = run_and_kill(up, Moment::Lines(lines));
    run.progress.into_iter().map(|(_, line)| line).collect()
}

/// Asserts that `down` of `lab` succeeds and leaves nothing tagged with it,
/// nor a bucket of its name (a bucket is tagged only after it is made).
async fn down_leaves_nothing(moto: &Moto, labrun: &Labrun, lab: &str, what: &str) {
    let out = labrun.run(&["down", lab, "--yes"]);
    assert!(out.status.success(), "{what}: {}", text(&out));
    assert_eq!(tagged(moto, lab).await, Vec::<String>::new(), "{what}");
    let s3 = moto.s3().await;
    let buckets = s3.list_buckets().send().await.unwrap();
    let prefix = format!("labrun-{lab}-");
    let named: Vec<&str> = (buckets.buckets().iter())
        .filter_map(|b| b.name())
        .filter(|n| n.starts_with(&prefix))
        .collect();
    assert_eq!(named, Vec::<&str>::new(), "{what}: buckets of {lab} left");
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
        let what = format!("killed after {:?}", seen.last());
        down_leaves_nothing(&moto, &labrun, &lab, &what).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn up_after_a_crash_completes_the_lab_without_duplicates() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    for lines in [3, 9, 15] {
        let lab = format!("resume{lines}");
        up_and_kill(&labrun, &lab, lines);
        let ready = ChaosLab::Nat.ready(&labrun, &lab);
        let out = ready.up().0.output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let left = tagged(&moto, &lab).await;
        assert_eq!(
            left.len(),
            15,
            "exactly the lab's 18 resources (its bucket's 3 objects are found through the bucket): {left:?}"
        );
        let again = ready.up().0.output().unwrap();
        assert!(
            String::from_utf8_lossy(&again.stdout).contains("No changes"),
            "{}",
            text(&again)
        );
        down_leaves_nothing(&moto, &labrun, &lab, "after resuming").await;
    }
}

/// Latency per API call in the seeded chaos runs: it stretches the part of a
/// run that talks to AWS, so random moments land among the calls rather than
/// in the script's evaluation.
const CHAOS_LATENCY_MS: u64 = 20;

/// When the last progress line of an uninterrupted `run` came (it must
/// succeed): the span in which a kill can land among API calls. (The
/// Kubernetes lab's after-up steps, which come next, make none.)
fn progress_span(run: Run) -> Duration {
    assert!(run.succeeded, "an uninterrupted run fails:\n{}", run.stderr);
    run.progress.last().expect("progress lines").0
}

/// SIGKILLs `up`, and separately `down`, of `lab` at `count` moments each,
/// drawn from `seed` uniformly between its start and the last progress line
/// of an uninterrupted run; after each, `down` must succeed and leave nothing.
/// Every run is of one lab name, as a user's `up` after a `down` would be.
async fn sigkill_at_seeded_moments(lab: ChaosLab, seed: u64, count: usize) {
    const NAME: &str = "chaos";
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto, 0.0, CHAOS_LATENCY_MS, 0);
    let labrun = Labrun::at(proxy.url());
    let ready = lab.ready(&labrun, NAME);
    let uninterrupted = |(command, _nodes): (Command, Option<Standins>)| {
        run_and_kill(command, Moment::Lines(usize::MAX))
    };
    // Moto's first lab is slower than the next ones: warm it up first.
    progress_span(uninterrupted(ready.up()));
    down_leaves_nothing(&moto, &labrun, NAME, "warm-up").await;
    let up_time = progress_span(uninterrupted(ready.up()));
    let down_time = progress_span(uninterrupted((ready.down(), None)));
    eprintln!("{lab:?}: progress of up spans {up_time:?}, of down {down_time:?}");
    assert_eq!(tagged(&moto, NAME).await, Vec::<String>::new());
    let mut rng = common::seeded(seed);
    for _ in 0..count {
        let at = up_time.mul_f64(rng.random_range(0.0..1.0));
        let (up, _nodes) = ready.up();
        let run = run_and_kill(up, Moment::After(at));
        let what = format!(
            "{lab:?}, seed {seed}: up killed at {at:?} after {} progress lines{}",
            run.progress.len(),
            if run.succeeded { " (it had ended)" } else { "" }
        );
        eprintln!("{what}");
        down_leaves_nothing(&moto, &labrun, NAME, &what).await;
    }
    for _ in 0..count {
        let at = down_time.mul_f64(rng.random_range(0.0..1.0));
        progress_span(uninterrupted(ready.up()));
        let run = run_and_kill(ready.down(), Moment::After(at));
        let what = format!(
            "{lab:?}, seed {seed}: down killed at {at:?} after {} progress lines{}",
            run.progress.len(),
            if run.succeeded { " (it had ended)" } else { "" }
        );
        eprintln!("{what}");
        down_leaves_nothing(&moto, &labrun, NAME, &what).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_at_seeded_moments_of_up_and_down_then_down_leaves_nothing() {
    sigkill_at_seeded_moments(ChaosLab::Nat, 14, 4).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "slow (20 kills of up and 20 of down, several minutes); the CI variant kills at 4 of each"]
async fn sigkill_at_20_seeded_moments_of_up_and_down_then_down_leaves_nothing() {
    sigkill_at_seeded_moments(ChaosLab::Nat, 2014, 20).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kube_lab_sigkill_at_seeded_moments_of_up_and_down_then_down_leaves_nothing() {
    sigkill_at_seeded_moments(ChaosLab::Kube { base: 10 }, 15, 2).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "slow (20 kills of up and 20 of down of the Kubernetes lab); the CI variant kills at 2 of each"]
async fn kube_lab_sigkill_at_20_seeded_moments_of_up_and_down_then_down_leaves_nothing() {
    sigkill_at_seeded_moments(ChaosLab::Kube { base: 40 }, 2015, 20).await;
}

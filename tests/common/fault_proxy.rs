//! The fault proxy of `tests/support/fault_proxy.py` between labrun and moto:
//! latency per call, seeded 503/500/throttling/resets/lost answers, and AWS's
//! ClientToken idempotency; every call it saw is read back from its log.

use super::{Moto, repo};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A running fault proxy, killed on drop.
pub struct FaultProxy {
    child: Child,
    url: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

/// One call the proxy saw (a line of its log).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ProxyCall {
    /// `ec2`, `s3`, `elasticloadbalancing`.
    pub service: String,
    /// `CreateVpc`, or for S3 e.g. `PUT bucket?tagging`.
    pub action: String,
    /// `503`, `500`, `throttle`, `reset`, `lost`, or none.
    pub fault: Option<String>,
    /// What moto answered (none when the call did not reach it).
    pub status: Option<u16>,
    /// Answered from the ClientToken memory, without reaching moto.
    pub replayed: bool,
    /// Moto acted on the call.
    pub forwarded: bool,
}

impl FaultProxy {
    /// A proxy in front of `moto` that delays every call by `latency_ms` and
    /// faults a share `rate` (0..1) of calls, chosen by `seed`, with every kind of fault.
    pub fn start(moto: &Moto, rate: f64, latency_ms: u64, seed: u64) -> FaultProxy {
        FaultProxy::with_faults(moto, rate, latency_ms, seed, &[])
    }

    /// [`FaultProxy::start`] with only the kinds of fault in `kinds`
    /// (`503`, `500`, `throttle`, `reset`, `lost`; none: all).
    pub fn with_faults(
        moto: &Moto,
        rate: f64,
        latency_ms: u64,
        seed: u64,
        kinds: &[&str],
    ) -> FaultProxy {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("calls.jsonl");
        let mut child = Command::new("python3")
            .arg(repo().join("tests/support/fault_proxy.py"))
            .args(["--upstream", &moto.url()])
            .args(["--rate", &rate.to_string()])
            .args(["--latency-ms", &latency_ms.to_string()])
            .args(["--seed", &seed.to_string()])
            .args(
                (!kinds.is_empty())
                    .then(|| format!("--faults={}", kinds.join(",")))
                    .iter(),
            )
            .arg("--log")
            .arg(&log)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the fault proxy");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("the proxy says where it listens");
        let url = first
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("fault proxy did not start: {first:?}"))
            .to_string();
        FaultProxy {
            child,
            url,
            log,
            _dir: dir,
        }
    }

    /// The endpoint URL labrun should use.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Every call seen so far, in arrival order.
    pub fn calls(&self) -> Vec<ProxyCall> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }

    /// Faults injected so far, by kind.
    pub fn faults(&self) -> BTreeMap<String, usize> {
        let mut by_kind = BTreeMap::new();
        for fault in self.calls().into_iter().filter_map(|c| c.fault) {
            *by_kind.entry(fault).or_default() += 1;
        }
        by_kind
    }

    /// Forgets the calls logged so far.
    pub fn clear_log(&self) {
        std::fs::write(&self.log, "").expect("truncate the proxy log");
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

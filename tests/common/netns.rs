//! Network namespaces joined by veth pairs, and `wireguard-go` interfaces
//! in them brought up from a wg-quick config the way `wg-quick` does it.
//! Everything is named uniquely per test run and removed on drop.

use super::wireguard::values;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A name no other test (in this run or a concurrent one) uses:
/// `prefix`, the process id, a counter. At most 15 characters with a
/// one-letter prefix, as interface names must be.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A network namespace, deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    /// A new namespace with its loopback up; `Err` says why none can be
    /// made here (not root, no namespace support).
    pub fn create() -> Result<Netns, String> {
        let name = unique("lrns");
        let out = Command::new("ip")
            .args(["netns", "add", &name])
            .output()
            .map_err(|e| format!("ip netns add: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "ip netns add: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        Ok(ns)
    }

    /// A command run inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]);
        cmd
    }

    /// Runs `ip ARGS` in the namespace; panics if it fails.
    pub fn ip(&self, args: &[&str]) -> Output {
        run(Command::new("ip").args(["-n", &self.name]).args(args))
    }

    /// Runs a shell line in the namespace (as wg-quick runs its hooks);
    /// panics if it fails.
    pub fn sh(&self, line: &str) -> Output {
        run(self.command("bash").args(["-c", line]))
    }

    /// Whether `address` answers a ping from here within `within`.
    pub fn pings(&self, address: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let answered = self
                .command("ping")
                .args(["-c", "1", "-W", "1", address])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("ping (Debian iputils-ping)")
                .success();
            if answered {
                return true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        false
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Joins `a` and `b` with a veth pair and gives each end an address
/// (`10.0.0.1/30`-style) and brings it up.
pub fn link(a: &Netns, a_address: &str, b: &Netns, b_address: &str) {
    let (a_end, b_end) = (unique("v"), unique("v"));
    run(Command::new("ip").args([
        "link", "add", &a_end, "netns", &a.name, "type", "veth", "peer", "name", &b_end, "netns",
        &b.name,
    ]));
    for (ns, end, address) in [(a, &a_end, a_address), (b, &b_end, b_address)] {
        ns.ip(&["address", "add", address, "dev", end]);
        ns.ip(&["link", "set", end, "up"]);
    }
}

/// A `wireguard-go` interface in a namespace; the daemon is stopped on drop.
pub struct WireguardGo<'a> {
    pub ns: &'a Netns,
    pub iface: String,
    daemon: Child,
    dir: tempfile::TempDir,
}

/// Where wireguard-go listens for `wg`.
fn socket(iface: &str) -> PathBuf {
    PathBuf::from(format!("/var/run/wireguard/{iface}.sock"))
}

impl<'a> WireguardGo<'a> {
    /// Starts wireguard-go for a new interface in `ns`.
    pub fn start(ns: &'a Netns) -> WireguardGo<'a> {
        let iface = unique("w");
        let daemon = ns
            .command("wireguard-go")
            .args(["-f", &iface])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("wireguard-go (Debian wireguard-go, installed by .ci/setup)");
        let mut wg = WireguardGo {
            ns,
            iface,
            daemon,
            dir: tempfile::tempdir().unwrap(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket(&wg.iface).exists() {
            if let Some(status) = wg.daemon.try_wait().unwrap() {
                panic!("wireguard-go {} exited with {status}", wg.iface);
            }
            assert!(
                Instant::now() < deadline,
                "wireguard-go {} never opened its socket",
                wg.iface
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        wg
    }

    /// Runs `wg ARGS` on this interface's namespace; panics if it fails.
    pub fn wg(&self, args: &[&str]) -> String {
        String::from_utf8(run(self.ns.command("wg").args(args)).stdout).unwrap()
    }

    /// Gives the interface the keys, port and peers of a wg-quick config:
    /// `wg-quick strip` keeps what `wg setconf` takes, which replaces what
    /// the interface had.
    pub fn setconf(&self, config: &str) {
        let path = self.dir.path().join(format!("{}.conf", self.iface));
        std::fs::write(&path, config).unwrap();
        let stripped = run(Command::new("wg-quick").arg("strip").arg(&path)).stdout;
        let setconf = self.dir.path().join("setconf.conf");
        std::fs::write(&setconf, stripped).unwrap();
        self.wg(&["setconf", &self.iface, setconf.to_str().unwrap()]);
    }

    /// Brings the interface up from a wg-quick config as `wg-quick up`
    /// does, hooks aside: [`WireguardGo::setconf`], then the addresses, the
    /// link, and a route per allowed IP.
    pub fn up(&self, config: &str) {
        self.setconf(config);
        for address in values(config, "Interface", "Address") {
            self.ns
                .ip(&["address", "add", &address, "dev", &self.iface]);
        }
        self.ns.ip(&["link", "set", &self.iface, "up"]);
        for allowed in values(config, "Peer", "AllowedIPs") {
            for net in allowed.split(',').map(str::trim) {
                self.ns.ip(&["route", "replace", net, "dev", &self.iface]);
            }
        }
    }

    /// Runs the config's `key` hooks (`PostUp`, `PostDown`) in order, with
    /// `%i` as the interface, as wg-quick does.
    pub fn hooks(&self, config: &str, key: &str) {
        for line in values(config, "Interface", key) {
            self.ns.sh(&line.replace("%i", &self.iface));
        }
    }

    /// The time of the latest handshake with each peer (0: none yet).
    pub fn latest_handshakes(&self) -> Vec<u64> {
        (self.wg(&["show", &self.iface, "latest-handshakes"]).lines())
            .map(|l| l.split('\t').nth(1).unwrap().parse().unwrap())
            .collect()
    }
}

impl Drop for WireguardGo<'_> {
    fn drop(&mut self) {
        // SIGTERM lets wireguard-go remove its interface and socket.
        unsafe { libc::kill(self.daemon.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.daemon.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        let _ = std::fs::remove_file(socket(&self.iface));
    }
}

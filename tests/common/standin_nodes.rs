//! Stand-ins for a lab's nodes, where no real one can run (no Fedora
//! CoreOS VM, no kube-apiserver, no container runtime, no internet here).
//!
//! Each node is a real sshd on a loopback address with the host key the lab
//! made for it, in a mount namespace of its own: /etc is the machine's with
//! the node's rendered files laid over it (what Ignition would have written,
//! plus its /etc/hosts lines), /var is the machine's with the node's own
//! changes laid over it, and /usr/local/bin holds the stand-ins of
//! `tests/fixtures/standins` (kubeadm, kubectl, systemctl, crictl, curl, podman)
//! and any a test writes ([`StandinNode::command`]), which record their calls
//! in a folder all nodes share. The lab reaches the
//! nodes through `LABRUN_NODE_HOSTS`. Its API servers are `openssl s_server`s
//! with the lab's certificates, answering `/readyz` with `ok`. Mount
//! namespaces need root, as CI has.

use super::sshd::{TestSshd, free_port};
use super::{Labrun, repo};
use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Loopback address `127.A.B.last`, with A.B taken from the process id so
/// that test binaries running at the same time (fixed ports like 6443
/// included) do not meet.
pub fn loopback(last: u8) -> String {
    let pid = std::process::id();
    format!("127.{}.{}.{last}", 1 + (pid / 250) % 250, 1 + pid % 250)
}

/// Runs `f` until it returns true, for at most `within`.
fn wait_until(within: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !f() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A stand-in node; see the module documentation.
pub struct StandinNode {
    pub name: String,
    pub sshd: TestSshd,
    /// What the node has in its /etc beyond the machine's (the overlay's
    /// upper folder): the rendered files and whatever was written since.
    pub etc: PathBuf,
    /// Its /usr/local/bin: the stand-ins.
    bin: PathBuf,
    _dir: tempfile::TempDir,
}

/// How to make one [`StandinNode`].
pub struct NodeSpec<'a> {
    pub name: &'a str,
    /// Where its sshd listens (on a free port).
    pub address: &'a str,
    /// Its rendered files (`labrun render`'s `DIR/NODE`): `etc/` is laid over /etc.
    pub rendered: Option<&'a Path>,
    /// Lines appended to its /etc/hosts, as the node's Ignition does.
    pub hosts: &'a str,
    /// The stand-ins' `standin.env` (see `tests/fixtures/standins/standin.sh`).
    pub env: &'a str,
}

impl StandinNode {
    /// Starts the node `spec` of `lab`, letting in the lab's user key.
    pub fn start(labrun: &Labrun, lab: &str, spec: &NodeSpec) -> StandinNode {
        let dir = tempfile::tempdir().expect("temp dir");
        let [etc, work, var, var_work, bin] =
            ["etc", "work", "var", "var-work", "bin"].map(|d| dir.path().join(d));
        for d in [&etc, &work, &var, &var_work, &bin] {
            fs::create_dir(d).expect("create a node folder");
        }
        if let Some(rendered) = spec.rendered {
            let out = Command::new("cp")
                .arg("-a")
                .arg(rendered.join("etc/."))
                .arg(&etc)
                .output()
                .expect("cp");
            assert!(out.status.success(), "{out:?}");
        }
        let hosts = fs::read_to_string("/etc/hosts").unwrap_or_default();
        fs::write(etc.join("hosts"), hosts + spec.hosts + "\n").expect("write hosts");
        let standins = repo().join("tests/fixtures/standins");
        for entry in fs::read_dir(&standins).expect("tests/fixtures/standins") {
            let entry = entry.unwrap();
            fs::copy(entry.path(), bin.join(entry.file_name())).expect("copy a stand-in");
        }
        fs::write(bin.join("standin.env"), spec.env).expect("write standin.env");
        let mount = "mount -t overlay overlay -o lowerdir=/etc,upperdir=\"$1\",workdir=\"$2\" /etc \
                     && mount -t overlay overlay -o lowerdir=/var,upperdir=\"$3\",workdir=\"$4\" /var \
                     && mount --bind \"$5\" /usr/local/bin && shift 5 && exec \"$@\"";
        let wrapper: Vec<String> = [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            mount,
            "sh",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([&etc, &work, &var, &var_work, &bin].map(|p| p.display().to_string()))
        .collect();
        let sshd = TestSshd::start_wrapped(
            spec.address,
            free_port(spec.address),
            &labrun.ssh_key(lab, &format!("ssh.host.{}", spec.name)),
            &[labrun.ssh_key(lab, "ssh.user").public_key()],
            "AllowTcpForwarding yes",
            &wrapper,
        );
        StandinNode {
            name: spec.name.to_string(),
            sshd,
            etc,
            bin,
            _dir: dir,
        }
    }

    /// Starts node `name` of `lab` on `address` with no rendered files and
    /// no /etc/hosts lines, its calls recorded in `record`.
    pub fn plain(
        labrun: &Labrun,
        lab: &str,
        name: &str,
        address: &str,
        record: &Path,
    ) -> StandinNode {
        let env = format!("NODE={name}\nRECORD={}\n", record.display());
        let spec = NodeSpec {
            name,
            address,
            rendered: None,
            hosts: "",
            env: &env,
        };
        StandinNode::start(labrun, lab, &spec)
    }

    /// Writes (or replaces) the stand-in `program` in the node's
    /// /usr/local/bin: it records its call, as the others do, then runs the
    /// shell lines `body`.
    pub fn command(&self, program: &str, body: &str) {
        let path = self.bin.join(program);
        let script = format!(
            "#!/bin/sh\n. \"$(dirname \"$0\")/standin.sh\"\nrecord {program} \"$@\"\n{body}\n"
        );
        fs::write(&path, script).expect("write a stand-in");
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        fs::set_permissions(&path, mode).expect("chmod a stand-in");
    }

    /// `NAME=USER@ADDRESS:PORT`, an entry of `LABRUN_NODE_HOSTS`.
    pub fn node_host(&self) -> String {
        let t = &self.sshd.target;
        format!("{}={}@{}:{}", self.name, t.user, t.host, t.port)
    }
}

/// `LABRUN_NODE_HOSTS` for `nodes`.
pub fn node_hosts(nodes: &[StandinNode]) -> String {
    let entries: Vec<String> = nodes.iter().map(StandinNode::node_host).collect();
    entries.join(",")
}

/// The calls the stand-ins recorded in `record`, as "NODE PROGRAM ARGS..." lines.
pub fn calls(record: &Path) -> Vec<String> {
    fs::read_to_string(record.join("calls"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// `openssl s_server` standing in for a kube-apiserver: it serves `cert`
/// and answers `GET /readyz` with `ok`; with `client_ca`, only to clients
/// whose certificate verifies against it. Killed on drop.
pub struct TlsServer {
    child: Child,
    _dir: tempfile::TempDir,
}

impl TlsServer {
    /// Starts it on `address:port` and waits until it accepts connections.
    pub fn start(
        address: &str,
        port: u16,
        cert: &Path,
        key: &Path,
        client_ca: Option<&Path>,
    ) -> TlsServer {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join("readyz"), "ok").expect("write readyz");
        let mut c = Command::new("openssl");
        c.args(["s_server", "-quiet", "-WWW", "-accept"])
            .arg(format!("{address}:{port}"))
            .arg("-cert")
            .arg(cert)
            .arg("-key")
            .arg(key)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(ca) = client_ca {
            c.args(["-Verify", "3", "-verify_return_error", "-CAfile"])
                .arg(ca);
        }
        let child = c.spawn().expect("openssl s_server starts");
        let server = TlsServer { child, _dir: dir };
        wait_until(Duration::from_secs(10), "s_server does not listen", || {
            TcpStream::connect((address, port)).is_ok()
        });
        server
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

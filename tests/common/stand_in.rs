//! A lab node stood in for by a real sshd on loopback (the node's host key,
//! the lab's user key), whose PATH starts with a folder of stand-in
//! commands the test writes: a `curl` that answers as the test says, an
//! `etcdctl` that reaches loopback members... Each stand-in logs how it was
//! called. Used where the node's own tools cannot run here (no internet,
//! no Fedora CoreOS).

use super::sshd::TestSshd;
use labrun::ssh::{KeyPair, PublicKey};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// A stand-in node; see the module documentation.
pub struct StandIn {
    pub sshd: TestSshd,
    bin: PathBuf,
    dir: tempfile::TempDir,
}

impl StandIn {
    /// Starts sshd on `address` with `host_key`, letting in `user_key`;
    /// `extra_config` lines go into its `sshd_config`.
    pub fn start(
        address: &str,
        host_key: &KeyPair,
        user_key: &PublicKey,
        extra_config: &str,
    ) -> StandIn {
        let dir = tempfile::tempdir().expect("temp dir");
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).expect("create bin");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let path = format!(
            "{}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            bin.display()
        );
        let sshd = TestSshd::start(
            address,
            host_key,
            std::slice::from_ref(user_key),
            &format!("SetEnv PATH={path}\n{extra_config}"),
        );
        StandIn { sshd, bin, dir }
    }

    /// Writes the stand-in command `name`: a `sh` script running `body`
    /// after logging its arguments.
    pub fn command(&self, name: &str, body: &str) {
        let path = self.bin.join(name);
        let log = self.dir.path().join("calls");
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\necho \"{name} $*\" >> '{}'\n{body}\n",
                log.display()
            ),
        )
        .expect("write stand-in");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    /// How the stand-ins were called, one line each (`name args...`).
    pub fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("calls"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }
}

impl super::Labrun {
    /// Starts a stand-in for node `node` of the lab `lab` (whose keys a
    /// `plan` made) on `address`, with the node's host key.
    pub fn stand_in(&self, lab: &str, node: &str, address: &str, extra_config: &str) -> StandIn {
        let user = self.ssh_key(lab, "ssh.user").public_key();
        let host_key = self.ssh_key(lab, &format!("ssh.host.{node}"));
        StandIn::start(address, &host_key, &user, extra_config)
    }
}

/// `LABRUN_NODE_HOSTS` sending each named node to its stand-in.
pub fn node_hosts(nodes: &[(&str, &StandIn)]) -> String {
    let entries: Vec<String> = (nodes.iter())
        .map(|(name, s)| {
            let t = &s.sshd.target;
            format!("{name}={}@{}:{}", t.user, t.host, t.port)
        })
        .collect();
    entries.join(",")
}

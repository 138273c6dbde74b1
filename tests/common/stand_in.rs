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
    /// The SSH key the lab `lab` stores under `key` (`ssh.user`,
    /// `ssh.host.NODE`).
    pub fn stored_key(&self, lab: &str, key: &str) -> KeyPair {
        let text =
            std::fs::read_to_string(self.lab_dir(lab).join("secrets.json")).expect("secrets.json");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        KeyPair::from_openssh(v[key].as_str().expect(key)).unwrap()
    }

    /// Starts a stand-in for node `node` of the lab `lab` (which has been
    /// up) on `address`, and records it in the lab's state as where the
    /// node is.
    pub fn stand_in(&self, lab: &str, node: &str, address: &str, extra_config: &str) -> StandIn {
        let user = self.stored_key(lab, "ssh.user").public_key();
        let host_key = self.stored_key(lab, &format!("ssh.host.{node}"));
        let stand_in = StandIn::start(address, &host_key, &user, extra_config);
        let path = self.lab_dir(lab).join("state.json");
        let mut state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("state.json")).unwrap();
        let target = &stand_in.sshd.target;
        let entry = &mut state["nodes"][node];
        assert!(entry.is_object(), "the state of {lab} has no node {node}");
        entry["host"] = target.host.clone().into();
        entry["port"] = target.port.into();
        entry["user"] = target.user.clone().into();
        std::fs::write(&path, state.to_string()).expect("write state.json");
        stand_in
    }
}

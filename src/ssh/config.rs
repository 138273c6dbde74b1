//! The `ssh_config` and `known_hosts` files written to the lab's folder, so
//! that `ssh -F <lab>/ssh_config NODE`, `scp -F …` and
//! `rsync -e 'ssh -F …'` work with strict host key checking and no prompt.

use std::fmt::Write as _;
use std::path::Path;

use super::Target;

/// One `Host` entry of the rendered `ssh_config`.
#[derive(Clone, Debug)]
pub struct ConfigHost {
    /// The name the user types (`ssh -F … ALIAS`), e.g. `control-01`.
    pub alias: String,
    /// Address, port, user and host key of the node.
    pub target: Target,
    /// Alias of the host to jump through (`ProxyJump`), e.g. the gateway.
    pub proxy_jump: Option<String>,
}

/// Renders an `ssh_config` with one `Host` entry per node, all using
/// `identity_file` and checking host keys strictly against
/// `known_hosts_file` (paths should be absolute).
pub fn render_ssh_config(
    hosts: &[ConfigHost],
    identity_file: &Path,
    known_hosts_file: &Path,
) -> String {
    let mut out = String::from("# Written by labrun. Use: ssh -F <this file> NODE\n");
    for host in hosts {
        let target = &host.target;
        let _ = writeln!(out, "\nHost {}", host.alias);
        let _ = writeln!(out, "    HostName {}", target.host);
        if target.port != 22 {
            let _ = writeln!(out, "    Port {}", target.port);
        }
        let _ = writeln!(out, "    User {}", target.user);
        let _ = writeln!(out, "    IdentityFile {}", config_path(identity_file));
        out.push_str("    IdentitiesOnly yes\n");
        let _ = writeln!(
            out,
            "    UserKnownHostsFile {}",
            config_path(known_hosts_file)
        );
        out.push_str("    StrictHostKeyChecking yes\n");
        if let Some(jump) = &host.proxy_jump {
            let _ = writeln!(out, "    ProxyJump {jump}");
        }
    }
    out
}

/// Renders `known_hosts` lines for the hosts' addresses as ssh looks them up
/// (`HOST`, or `[HOST]:PORT` off port 22).
pub fn render_known_hosts(hosts: &[ConfigHost]) -> String {
    hosts
        .iter()
        .map(|host| {
            let target = &host.target;
            let pattern = if target.port == 22 {
                target.host.clone()
            } else {
                format!("[{}]:{}", target.host, target.port)
            };
            format!("{pattern} {}\n", target.host_key.to_openssh_bare())
        })
        .collect()
}

/// A path as an `ssh_config` argument: quoted, `%` escaped (ssh expands
/// `%` tokens in these options).
fn config_path(path: &Path) -> String {
    format!("\"{}\"", path.display().to_string().replace('%', "%%"))
}

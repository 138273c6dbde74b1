//! File transfer over exec channels: the bytes travel as a command's stdin
//! (upload) or stdout (download), so nodes need only a POSIX shell and
//! coreutils, no SFTP server.

use super::{Connection, Output, SshError};

impl Connection {
    /// Writes `data` to `path` on the node with permission bits `mode`
    /// (e.g. `0o600`), creating missing parent directories. The file is
    /// written to a temporary name beside `path` and renamed over it, so
    /// readers never see half a file. With `sudo`, runs as root through
    /// `sudo -n` (the user must have passwordless sudo).
    pub async fn put(
        &self,
        data: &[u8],
        path: &str,
        mode: u32,
        sudo: bool,
    ) -> Result<(), SshError> {
        let script = format!(
            "set -e; p={path}; d=$(dirname -- \"$p\"); mkdir -p -- \"$d\"; \
             t=$(mktemp -- \"$d/.labrun-put.XXXXXX\"); trap 'rm -f -- \"$t\"' EXIT; \
             cat > \"$t\"; chmod {mode:o} -- \"$t\"; mv -f -- \"$t\" \"$p\"; trap - EXIT",
            path = shell_quote(path),
        );
        let output = self
            .execute(&shell_command(&script, sudo), Some(data), None, None)
            .await?;
        self.check(output, "upload to", path).map(drop)
    }

    /// Reads the file at `path` on the node; through `sudo -n` with `sudo`.
    pub async fn get(&self, path: &str, sudo: bool) -> Result<Vec<u8>, SshError> {
        let script = format!("cat -- {}", shell_quote(path));
        let output = self
            .execute(&shell_command(&script, sudo), None, None, None)
            .await?;
        self.check(output, "download of", path)
    }

    fn check(&self, output: Output, action: &str, path: &str) -> Result<Vec<u8>, SshError> {
        if output.success() {
            return Ok(output.stdout);
        }
        Err(SshError::Transfer {
            host: self.name().to_string(),
            action: format!("{action} {path}"),
            status: output.describe_status(),
            stderr: output.stderr_text().trim().to_string(),
        })
    }
}

/// `sh -c SCRIPT`, optionally under `sudo -n`: independent of the remote
/// user's login shell.
fn shell_command(script: &str, sudo: bool) -> String {
    let command = format!("sh -c {}", shell_quote(script));
    if sudo {
        format!("sudo -n {command}")
    } else {
        command
    }
}

/// Quotes `text` as one POSIX shell word.
pub(super) fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

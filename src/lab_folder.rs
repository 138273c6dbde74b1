//! A lab's private folder under the labrun home, and every path and private
//! write labrun makes for a lab: the state, the secrets, the lock, and the
//! files handed to the user (ssh_config, known_hosts, the key copy,
//! `files/`). `down` removes exactly [`USER_FILES`] and [`FILES_DIR`].

use anyhow::{Context, Result};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The lab's state (engine).
pub const STATE: &str = "state.json";
/// The lab's keys and certificates; they survive `down`.
pub const SECRETS: &str = "secrets.json";
/// What the lab pinned (image IDs, software versions); it survives `down`.
pub const LOCK: &str = "lock.json";
/// The SSH client config written for the user after `up`.
pub const SSH_CONFIG: &str = "ssh_config";
/// The nodes' host keys, known before they boot.
pub const KNOWN_HOSTS: &str = "known_hosts";
/// A copy of the lab's user key for the system ssh.
pub const IDENTITY: &str = "id_ed25519";
/// Its public half.
pub const IDENTITY_PUB: &str = "id_ed25519.pub";
/// Files the lab declares (`lab:file`), written after apply.
pub const FILES_DIR: &str = "files";
/// The client configs of the lab's WireGuard server (stdlib
/// `labrun.wireguard`), a folder of [`FILES_DIR`]: `NAME.conf` per client.
pub const WIREGUARD_CLIENTS: &str = "wireguard";
/// What `up` writes for the user besides [`FILES_DIR`]; `down` removes them.
pub const USER_FILES: &[&str] = &[SSH_CONFIG, KNOWN_HOSTS, IDENTITY, IDENTITY_PUB];

/// The labrun home: `LABRUN_HOME`, else the XDG state directory.
pub fn home() -> Result<PathBuf> {
    if let Some(h) = std::env::var_os("LABRUN_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(h));
    }
    let base = dirs::state_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))
        .context("cannot find a state directory: set LABRUN_HOME")?;
    Ok(base.join("labrun"))
}

/// One lab's folder.
#[derive(Debug, Clone)]
pub struct LabFolder {
    dir: PathBuf,
}

impl LabFolder {
    /// The folder of lab `lab` (not created).
    pub fn of(lab: &str) -> Result<LabFolder> {
        Ok(LabFolder {
            dir: home()?.join("labs").join(lab),
        })
    }

    /// The folder itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A path inside the folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Creates the folder (0700) if missing.
    pub fn create(&self) -> Result<()> {
        create_private_dir(&self.dir)
    }

    /// Reads a file of the folder, `None` if it does not exist.
    pub fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path(name);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Writes a file of the folder atomically, 0600, creating the folder.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        self.create()?;
        let path = self.path(name);
        write_private_file(&path, bytes)?;
        Ok(path)
    }

    /// Removes one file of the folder; a missing file is fine.
    pub fn remove(&self, name: &str) -> Result<()> {
        let path = self.path(name);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot remove {}", path.display()))
            }
            _ => Ok(()),
        }
    }

    /// Removes what `up` wrote for the user (the lab is gone); the secrets stay.
    pub fn remove_user_files(&self) -> Result<()> {
        for name in USER_FILES {
            self.remove(name)?;
        }
        let files = self.path(FILES_DIR);
        match fs::remove_dir_all(&files) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot remove {}", files.display()))
            }
            _ => Ok(()),
        }
    }

    /// The lock file of lab `lab` (kept apart from the folder, which `down` may empty).
    pub fn lock_path(lab: &str) -> Result<PathBuf> {
        Ok(home()?.join("locks").join(format!("{lab}.lock")))
    }
}

/// Names of the labs that have a state under the labrun home.
pub fn labs_with_state() -> Result<Vec<String>> {
    let dir = home()?.join("labs");
    let mut names: Vec<String> = match fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join(STATE).exists())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    Ok(names)
}

/// Creates a folder (and parents) readable only by the user.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot restrict {}", dir.display()))
}

/// Writes a file atomically (temp file, fsync, rename, fsync of the folder), mode 0600.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("path has no folder")?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// One file to write into a folder: a relative path, its bytes, its mode.
pub struct OutFile<'a> {
    pub path: &'a str,
    pub contents: &'a [u8],
    pub mode: u32,
}

/// What [`write_tree`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub written: usize,
    pub unchanged: usize,
}

/// Writes files under `dir`, each with its mode set before anything is
/// written (a key is never readable by others). A file whose bytes and mode
/// are already right is left alone, so an unchanged lab rewrites nothing.
pub fn write_tree<'a>(dir: &Path, files: impl IntoIterator<Item = OutFile<'a>>) -> Result<Written> {
    let mut done = Written::default();
    for file in files {
        let path = dir.join(file.path);
        if let Ok(meta) = fs::metadata(&path)
            && meta.permissions().mode() & 0o777 == file.mode
            && fs::read(&path).is_ok_and(|old| old == file.contents)
        {
            done.unchanged += 1;
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(file.mode)
            .open(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        out.set_permissions(fs::Permissions::from_mode(file.mode))
            .with_context(|| format!("cannot set the mode of {}", path.display()))?;
        out.write_all(file.contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
        done.written += 1;
    }
    Ok(done)
}

/// Removes files under `dir` that are not in `keep` (relative paths), and
/// folders left empty: what an earlier `up` wrote and the lab no longer declares.
pub fn prune_tree(dir: &Path, keep: &std::collections::HashSet<String>) -> Result<usize> {
    fn walk(
        root: &Path,
        dir: &Path,
        keep: &std::collections::HashSet<String>,
        removed: &mut usize,
    ) -> Result<()> {
        let Ok(entries) = fs::read_dir(dir) else {
            return Ok(());
        };
        for entry in entries.filter_map(|e| e.ok()) {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, keep, removed)?;
                if fs::read_dir(&path).is_ok_and(|mut d| d.next().is_none()) {
                    fs::remove_dir(&path).ok();
                }
            } else {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                if !keep.contains(&rel.to_string_lossy().to_string()) {
                    fs::remove_file(&path)
                        .with_context(|| format!("cannot remove {}", path.display()))?;
                    *removed += 1;
                }
            }
        }
        Ok(())
    }
    let mut removed = 0;
    walk(dir, dir, keep, &mut removed)?;
    Ok(removed)
}

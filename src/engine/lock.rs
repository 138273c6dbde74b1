//! One labrun at a time per lab: an exclusive lock naming its holder.

use crate::lab_folder::{LabFolder, create_private_dir};
use anyhow::{Context, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};

/// Held for as long as a command works on a lab; released on drop (or when
/// the process dies, whatever the cause).
#[derive(Debug)]
pub struct LabLock {
    _file: File,
}

/// Another labrun holds the lab.
#[derive(Debug, thiserror::Error)]
#[error("lab '{lab}' is in use by another labrun ({holder}); wait for it to finish")]
pub struct Locked {
    pub lab: String,
    pub holder: String,
}

impl LabLock {
    /// Takes the lock or fails at once, naming the PID and command holding it.
    pub fn acquire(lab: &str) -> Result<LabLock> {
        let path = LabFolder::lock_path(lab)?;
        create_private_dir(path.parent().context("lock path has no folder")?)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                file.read_to_string(&mut holder).ok();
                let holder = match holder.trim() {
                    "" => "unknown process".to_string(),
                    h => h.to_string(),
                };
                return Err(Locked {
                    lab: lab.into(),
                    holder,
                }
                .into());
            }
            Err(TryLockError::Error(e)) => return Err(e).context("cannot lock the lab"),
        }
        let args: Vec<String> = std::env::args().collect();
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "PID {}: {}", std::process::id(), args.join(" "))?;
        file.sync_all()?;
        Ok(LabLock { _file: file })
    }
}

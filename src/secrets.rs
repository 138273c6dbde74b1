//! Secrets of the lab being loaded (keys, certificates): read from the lab
//! folder's `secrets.json` (0600), generated once, reused by later loads so
//! a rebuilt lab still matches what the user holds, until renewed. Each
//! host module keeps its secrets under its own entry (`pki`, ...), and
//! entries are renewed one by one.
//!
//! The lab's lock (`lock.json`: image IDs and software versions pinned at
//! first use, reused until `--upgrade`) is the same kind of store in
//! another file: [`Pinned`].

use crate::lab_folder::{LOCK, LabFolder, SECRETS};
use anyhow::{Context, Result};
use indexmap::IndexMap;
use serde_json::Value as Json;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
struct Inner {
    /// The file of the lab folder it lives in.
    file: &'static str,
    /// Every stored entry is ignored and replaced.
    renew_all: bool,
    lab: Option<String>,
    data: IndexMap<String, Json>,
    /// Entries set during this load.
    fresh: HashSet<String>,
    changed: bool,
    /// Entries whose stored value is ignored and replaced.
    renew: HashSet<String>,
}

/// The secret store host modules share while a script loads.
#[derive(Debug, Clone)]
pub struct LabSecrets(Arc<Mutex<Inner>>);

impl Default for LabSecrets {
    /// A store of `secrets.json` that renews nothing.
    fn default() -> Self {
        LabSecrets::new(Vec::<String>::new())
    }
}

impl LabSecrets {
    /// A store whose `renew` entries are ignored and replaced; the others
    /// are reused.
    pub fn new<S: Into<String>>(renew: impl IntoIterator<Item = S>) -> LabSecrets {
        LabSecrets(Arc::new(Mutex::new(Inner {
            file: SECRETS,
            renew: renew.into_iter().map(Into::into).collect(),
            ..Default::default()
        })))
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads what lab `lab` already has.
    pub fn open(&self, lab: &str) -> Result<()> {
        let folder = LabFolder::of(lab)?;
        let file = self.inner().file;
        let data = match folder.read(file)? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not valid JSON", folder.path(file).display()))?,
            None => IndexMap::new(),
        };
        let mut inner = self.inner();
        inner.lab = Some(lab.to_string());
        inner.data = data;
        Ok(())
    }

    /// Whether [`LabSecrets::open`] was called.
    pub fn is_open(&self) -> bool {
        self.inner().lab.is_some()
    }

    /// The stored entry `key` (none when it is renewed, unless set during
    /// this load).
    pub fn get(&self, key: &str) -> Option<Json> {
        let inner = self.inner();
        if (inner.renew_all || inner.renew.contains(key)) && !inner.fresh.contains(key) {
            return None;
        }
        inner.data.get(key).cloned()
    }

    /// Stores entry `key`; it is written by [`LabSecrets::save`].
    pub fn set(&self, key: &str, value: Json) {
        let mut inner = self.inner();
        inner.fresh.insert(key.to_string());
        if inner.data.get(key) != Some(&value) {
            inner.data.insert(key.to_string(), value);
            inner.changed = true;
        }
    }

    /// Writes the store if this load changed it.
    pub fn save(&self) -> Result<()> {
        let inner = self.inner();
        let (Some(lab), true) = (&inner.lab, inner.changed) else {
            return Ok(());
        };
        LabFolder::of(lab)?.write(inner.file, &serde_json::to_vec_pretty(&inner.data)?)?;
        Ok(())
    }
}

/// The lab's lock: what it pinned at first use (the image an image lookup
/// found, software versions), so a rebuild a year later is the same lab;
/// `upgrade` ignores the pins and records what is current.
#[derive(Debug, Clone)]
pub struct Pinned(pub LabSecrets);

impl Pinned {
    /// The lock store, ignoring every pin if `upgrade`.
    pub fn new(upgrade: bool) -> Pinned {
        Pinned(LabSecrets(Arc::new(Mutex::new(Inner {
            file: LOCK,
            renew_all: upgrade,
            ..Default::default()
        }))))
    }

    /// The value pinned under `key`, or `value` pinned now.
    pub fn pin(&self, key: &str, value: Json) -> Json {
        match self.0.get(key) {
            Some(pinned) => pinned,
            None => {
                self.0.set(key, value.clone());
                value
            }
        }
    }
}

/// Whether text holds a private key or a client credential: PEM and
/// OpenSSH private keys, WireGuard keys, kubeconfig keys, also inside
/// percent-encoded data URLs.
pub fn looks_secret(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let decoded = percent_encoding::percent_decode_str(&text).decode_utf8_lossy();
    [
        "PRIVATE KEY-----",
        "PrivateKey",
        "PresharedKey",
        "client-key-data",
    ]
    .iter()
    .any(|m| text.contains(m) || decoded.contains(m))
}

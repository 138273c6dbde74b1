//! The lab state: what labrun created, written atomically after every change.
//!
//! Each lab has a folder (0700) under the labrun home holding `state.json`
//! (0600). A create is journaled before its API call (status `creating`) and
//! its ID recorded right after, so a crash at any moment leaves a state from
//! which `up` and `down` can find everything.

use anyhow::{Context, Result};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Where a resource's creation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The create call was sent (or about to be); not known to be finished.
    Creating,
    /// Fully created and configured.
    Created,
}

/// One resource labrun created (or started to create).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResourceState {
    pub kind: String,
    pub status: Status,
    /// Cloud ID, once the create call answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Idempotency token sent with the create call.
    pub token: String,
    /// Resolved properties it was created (or last updated) with.
    pub props: Json,
    /// Attributes known after creation.
    #[serde(default)]
    pub attrs: IndexMap<String, Json>,
    /// Addresses it depended on when created: destroy goes in reverse.
    #[serde(default)]
    pub deps: Vec<String>,
    /// Unix seconds of the create call.
    pub created_at: u64,
}

/// A node reachable over SSH, with its address resolved after apply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeState {
    pub host: String,
    pub port: u16,
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jump: Option<String>,
    /// The only host key accepted from it.
    pub host_key: String,
}

/// The whole state of one lab.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub lab: String,
    pub region: String,
    /// The script the lab was last brought up from.
    #[serde(default)]
    pub script: String,
    /// Unix seconds when the first resource of this incarnation was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_since: Option<u64>,
    /// Price of what is up, in dollars per hour, as of the last apply.
    #[serde(default)]
    pub hourly_cost: f64,
    #[serde(default)]
    pub resources: IndexMap<String, ResourceState>,
    /// Lab outputs as of the last apply.
    #[serde(default)]
    pub outputs: IndexMap<String, Json>,
    /// Nodes reachable over SSH, as of the last apply.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub nodes: IndexMap<String, NodeState>,
    /// Whether the after-up steps finished since the last change.
    #[serde(default)]
    pub steps_done: bool,
}

/// Current state format version.
pub const STATE_VERSION: u32 = 1;

impl State {
    /// An empty state for a new lab.
    pub fn new(lab: &str, region: &str) -> State {
        State {
            version: STATE_VERSION,
            lab: lab.into(),
            region: region.into(),
            ..Default::default()
        }
    }

    /// Attribute `attr` of the resource at `address`; `id` is the cloud ID.
    pub fn attr(&self, address: &str, attr: &str) -> Option<Json> {
        let r = self
            .resources
            .get(address)
            .filter(|r| r.status == Status::Created)?;
        if attr == "id" {
            return r.id.clone().map(Json::String);
        }
        r.attrs.get(attr).cloned()
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

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

/// The folder of one lab.
pub fn lab_dir(lab: &str) -> Result<PathBuf> {
    Ok(home()?.join("labs").join(lab))
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

/// Reads a lab's state, if it has one.
pub fn load(lab: &str) -> Result<Option<State>> {
    let path = lab_dir(lab)?.join("state.json");
    match fs::read(&path) {
        Ok(bytes) => {
            let state: State = serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not a valid labrun state", path.display()))?;
            Ok(Some(state))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes a lab's state atomically.
pub fn save(state: &State) -> Result<()> {
    let dir = lab_dir(&state.lab)?;
    create_private_dir(&dir)?;
    let bytes = serde_json::to_vec_pretty(state)?;
    write_private_file(&dir.join("state.json"), &bytes)
}

/// Removes a lab's state once nothing of it is left in the cloud. Its
/// secrets (`secrets.json`) stay, so the next `up` reuses the same keys.
pub fn remove(lab: &str) -> Result<()> {
    let path = lab_dir(lab)?.join("state.json");
    match fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Names of the labs that have a folder under the labrun home.
pub fn list() -> Result<Vec<String>> {
    let dir = home()?.join("labs");
    let mut names = match fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("state.json").exists())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    Ok(names)
}

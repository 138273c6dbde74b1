//! The lab state: what labrun created, written atomically after every change.
//!
//! Each lab has a folder (0700) under the labrun home holding `state.json`
//! (0600). A create is journaled before its API call (status `creating`) and
//! its ID recorded right after, so a crash at any moment leaves a state from
//! which `up` and `down` can find everything.

use crate::lab_folder::{LabFolder, STATE};
use anyhow::{Context, Result};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
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
    /// The `--var` values it was last brought up with (so a command that
    /// runs its script again, e.g. `labrun check`, declares the same lab).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub vars: std::collections::BTreeMap<String, String>,
    /// Unix seconds when the first resource of this incarnation was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_since: Option<u64>,
    /// Price of what is up, in dollars per hour, as of the last apply.
    #[serde(default)]
    pub hourly_cost: f64,
    /// The lab's time to live and when it ends, as of the last apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<crate::engine::decl::Expiry>,
    #[serde(default)]
    pub resources: IndexMap<String, ResourceState>,
    /// Lab outputs as of the last apply.
    #[serde(default)]
    pub outputs: IndexMap<String, Json>,
    /// Nodes reachable over SSH, as of the last apply.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub nodes: IndexMap<String, NodeState>,
    /// After-up steps that finished since the last change; the others run
    /// at the next `up`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub done_steps: Vec<String>,
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

    /// Seconds until the lab's TTL ends (negative once past), if it has one.
    pub fn time_left(&self) -> Option<i64> {
        self.expires.map(|e| e.at as i64 - now() as i64)
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

    /// Attribute `attr` of the resource at `address` as far as it is made:
    /// during an apply, a stage that gave it may have run before the rest.
    pub fn known(&self, address: &str, attr: &str) -> Option<Json> {
        let r = self.resources.get(address)?;
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

/// Reads a lab's state, if it has one.
pub fn load(lab: &str) -> Result<Option<State>> {
    let folder = LabFolder::of(lab)?;
    let Some(bytes) = folder.read(STATE)? else {
        return Ok(None);
    };
    let state: State = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{} is not a valid labrun state",
            folder.path(STATE).display()
        )
    })?;
    Ok(Some(state))
}

/// Writes a lab's state atomically.
pub fn save(state: &State) -> Result<()> {
    LabFolder::of(&state.lab)?.write(STATE, &serde_json::to_vec_pretty(state)?)?;
    Ok(())
}

/// Removes a lab's state once nothing of it is left in the cloud. Its
/// secrets stay, so the next `up` reuses the same keys.
pub fn remove(lab: &str) -> Result<()> {
    LabFolder::of(lab)?.remove(STATE)
}

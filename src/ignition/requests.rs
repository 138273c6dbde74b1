//! What the walk over a Butane config hands its extensions: the node being
//! translated, and the requests for mount units and trees that are served
//! once the whole config is converted.

use serde_json::{Map, Value};

use super::yaml::{Kind, Node};

/// A filesystem with `with_mount_unit: true`.
pub(crate) struct MountRequest {
    pub fs: Map<String, Value>,
    /// Source path of its `with_mount_unit`.
    pub src: String,
}

/// A `storage.trees` entry.
pub(crate) struct TreeRequest {
    pub local: String,
    pub path: Option<String>,
    pub user: Option<Value>,
    pub group: Option<Value>,
    pub file_mode: Option<i64>,
    pub dir_mode: Option<i64>,
    /// Source path of the entry.
    pub src: String,
}

/// The node being translated, with its source and output paths.
pub(crate) struct Here<'n> {
    pub node: &'n Node,
    pub src: &'n str,
    pub dst: &'n str,
}

impl Here<'_> {
    /// Whether `key` is given a value (not `null`).
    pub(super) fn has(&self, key: &str) -> bool {
        self.node
            .get(key)
            .is_some_and(|n| !matches!(n.kind, Kind::Null))
    }
}

//! Reading resolved properties.

use crate::engine::provider::ProviderError;
use serde_json::Value as Json;

/// Resolved properties of one resource.
#[derive(Clone, Copy)]
pub struct Props<'a>(pub &'a Json);

impl<'a> Props<'a> {
    /// A string property.
    pub fn str(self, key: &str) -> Option<&'a str> {
        self.0.get(key).and_then(Json::as_str)
    }
    /// A string property that must be present (the schema enforces it).
    pub fn req(self, key: &str) -> Result<&'a str, ProviderError> {
        self.str(key)
            .ok_or_else(|| ProviderError::other(format!("property '{key}' is missing")))
    }
    /// An integer property.
    pub fn int(self, key: &str) -> Option<i64> {
        self.0.get(key).and_then(Json::as_i64)
    }
    /// A boolean property.
    pub fn bool(self, key: &str) -> Option<bool> {
        self.0.get(key).and_then(Json::as_bool)
    }
    /// A list property (empty when absent).
    pub fn list(self, key: &str) -> &'a [Json] {
        self.0
            .get(key)
            .and_then(Json::as_array)
            .map_or(&[], Vec::as_slice)
    }
    /// A list of strings.
    pub fn strs(self, key: &str) -> Vec<String> {
        self.list(key)
            .iter()
            .filter_map(Json::as_str)
            .map(String::from)
            .collect()
    }
    /// Whether the property differs between two versions.
    pub fn changed(self, other: Props<'_>, key: &str) -> bool {
        self.0.get(key) != other.0.get(key)
    }
}

//! The interface between the engine and a cloud: the engine decides what to
//! do and in which order, a provider does it.

use super::decl::{DeclError, Declaration};
use super::schema::Schema;
use async_trait::async_trait;
use indexmap::IndexMap;
use serde_json::Value as Json;

/// Attributes of a resource known after creation.
pub type Attrs = IndexMap<String, Json>;

/// How a provider call failed, as far as the engine cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The resource does not exist (any more).
    NotFound,
    /// Something still uses the resource; retrying later may succeed.
    DependencyViolation,
    /// Anything else.
    Other,
}

/// A failed provider call.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub class: ErrorClass,
    pub message: String,
}

impl ProviderError {
    /// An error of class `Other`.
    pub fn other(message: impl Into<String>) -> Self {
        ProviderError {
            class: ErrorClass::Other,
            message: message.into(),
        }
    }
}

/// Everything a create needs.
pub struct CreateRequest<'a> {
    pub lab: &'a str,
    pub address: &'a str,
    pub kind: &'a str,
    /// Resolved properties.
    pub props: &'a Json,
    /// Idempotency token (stable across retries of the same create).
    pub token: &'a str,
    /// Called with the cloud ID as soon as the create call answered, so the
    /// engine journals it before any further call.
    pub record_id: &'a (dyn Fn(&str) + Send + Sync),
}

/// Everything an in-place update needs.
pub struct UpdateRequest<'a> {
    pub lab: &'a str,
    pub address: &'a str,
    pub kind: &'a str,
    pub id: &'a str,
    pub old: &'a Json,
    pub new: &'a Json,
    pub attrs: &'a Attrs,
}

/// A resource found by its lab tag.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Tagged {
    pub kind: String,
    pub id: String,
    /// The `labrun:resource` tag.
    pub address: String,
}

/// A cloud as the engine sees it.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The schemas of every kind the provider offers.
    fn schemas(&self) -> Vec<&'static Schema>;
    /// The schema of a kind, if the provider knows it.
    fn schema(&self, kind: &str) -> Option<&'static Schema> {
        self.schemas().into_iter().find(|s| s.kind == kind)
    }
    /// Adds what the provider needs to carry out a declaration (e.g. storage
    /// for user data over EC2's limit); runs before the checks.
    fn expand(&self, decl: &mut Declaration) -> Result<(), DeclError>;
    /// Cross-resource checks on a declaration (e.g. CIDRs inside their VPC).
    fn validate(&self, decl: &Declaration) -> Result<(), DeclError>;
    /// Kinds in the order a sweep deletes them (dependents first).
    fn sweep_order(&self) -> Vec<&'static str>;
    /// Creates a resource, tagged with its lab and address at creation.
    async fn create(&self, req: CreateRequest<'_>) -> Result<Attrs, ProviderError>;
    /// Changes in-place-updatable fields of a resource.
    async fn update(&self, req: UpdateRequest<'_>) -> Result<Attrs, ProviderError>;
    /// Deletes a resource and waits until it is gone. Gone already is success.
    async fn delete(&self, kind: &str, id: &str) -> Result<(), ProviderError>;
    /// Everything tagged with the lab, of every kind.
    async fn tagged(&self, lab: &str) -> Result<Vec<Tagged>, ProviderError>;
}

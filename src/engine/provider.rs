//! The interface between the engine and a cloud: the engine decides what to
//! do and in which order, a provider does it.

use super::decl::{DeclError, Declaration};
use super::schema::Schema;
use super::value::Value;
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
    /// The failed call certainly changed nothing: the connection was
    /// refused, or AWS answered with an error, and no earlier attempt's
    /// answer was lost.
    pub changed_nothing: bool,
}

impl ProviderError {
    /// An error of `class` that may have changed something.
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        ProviderError {
            class,
            message: message.into(),
            changed_nothing: false,
        }
    }

    /// An error of class `Other`.
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Other, message)
    }
}

/// Where a provider says what it is doing besides its results (a call
/// retried, a resource adopted); the engine shows it as progress.
pub type Note<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// One stage of making a resource: a call or a few that need some of its
/// properties and make some of its attributes known. A resource's stages
/// let its dependents start as soon as what they use is known, while the
/// rest of it is still being made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    pub name: &'static str,
    /// Properties whose references must be known before it starts (the
    /// first stage also gets every property no stage names here);
    /// `depends_on` stands for the resource's explicit dependencies.
    pub needs: &'static [&'static str],
    /// Attributes known once it is done (`id` for the cloud ID); an
    /// attribute no stage gives is known when the whole resource is.
    pub gives: &'static [&'static str],
    /// Stages of the same resource it runs after (empty: the first).
    pub after: &'static [&'static str],
}

impl Stage {
    /// The only stage of a resource made in one go.
    pub const WHOLE: Stage = Stage::first("create", &[]);

    /// A first stage, giving `gives`.
    pub const fn first(name: &'static str, gives: &'static [&'static str]) -> Stage {
        Stage {
            name,
            needs: &[],
            gives,
            after: &[],
        }
    }

    /// A stage that runs after the stages `after` and needs `needs`.
    pub const fn after(
        name: &'static str,
        after: &'static [&'static str],
        needs: &'static [&'static str],
    ) -> Stage {
        Stage {
            name,
            needs,
            gives: &[],
            after,
        }
    }

    /// This stage, giving `gives`.
    pub const fn giving(self, gives: &'static [&'static str]) -> Stage {
        Stage { gives, ..self }
    }
}

/// Everything one stage of a create needs.
pub struct CreateRequest<'a> {
    pub lab: &'a str,
    pub address: &'a str,
    pub kind: &'a str,
    /// The stage to carry out.
    pub stage: &'a str,
    /// Resolved properties: the literal ones and those the stage needs.
    pub props: &'a Json,
    /// Idempotency token (stable across retries of the same create).
    pub token: &'a str,
    /// The cloud ID, once an earlier stage recorded it.
    pub id: Option<&'a str>,
    /// Attributes earlier stages gave.
    pub attrs: &'a Attrs,
    /// Called with the cloud ID as soon as the create call answered, so the
    /// engine journals it before any further call.
    pub record_id: &'a (dyn Fn(&str) + Send + Sync),
    pub note: Note<'a>,
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
    pub note: Note<'a>,
}

/// Everything a delete needs; what the state recorded helps it skip lookups.
pub struct DeleteRequest<'a> {
    pub kind: &'a str,
    pub id: &'a str,
    /// Properties it was made with, when the state knows them.
    pub props: Option<&'a Json>,
    /// Its attributes, when the state knows them.
    pub attrs: Option<&'a Attrs>,
    pub note: Note<'a>,
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
    /// The kinds whose resources keep one of `kind` from being deleted while
    /// they exist (a subnet's instances): its delete waits for theirs.
    fn held_by(&self, kind: &str) -> Vec<&'static str> {
        let _ = kind;
        Vec::new()
    }
    /// Bounds the work in flight to `n` operations at once; an operation
    /// may make a few calls side by side, so calls are bounded to twice that.
    fn bound_calls(&self, n: usize) {
        let _ = n;
    }
    /// The stages of making a resource of `kind` with these properties.
    fn stages(&self, kind: &str, props: &IndexMap<String, Value>) -> Vec<Stage> {
        let _ = (kind, props);
        vec![Stage::WHOLE]
    }
    /// Carries out one stage of a create; the stage that makes the resource
    /// tags it with its lab and address at creation.
    async fn create(&self, req: CreateRequest<'_>) -> Result<Attrs, ProviderError>;
    /// Changes in-place-updatable fields of a resource.
    async fn update(&self, req: UpdateRequest<'_>) -> Result<Attrs, ProviderError>;
    /// Deletes a resource and waits until it is gone. Gone already is success.
    async fn delete(&self, req: DeleteRequest<'_>) -> Result<(), ProviderError>;
    /// Everything tagged with the lab, of every kind.
    async fn tagged(&self, lab: &str, note: Note<'_>) -> Result<Vec<Tagged>, ProviderError>;
    /// Everything of `kind` tagged with the lab.
    async fn tagged_kind(
        &self,
        lab: &str,
        kind: &str,
        note: Note<'_>,
    ) -> Result<Vec<Tagged>, ProviderError> {
        let mut all = self.tagged(lab, note).await?;
        all.retain(|t| t.kind == kind);
        Ok(all)
    }
    /// What keeps a resource in use (IDs with what they are), to say why its
    /// delete waits.
    async fn holders(&self, kind: &str, id: &str, note: Note<'_>) -> Vec<String> {
        let _ = (kind, id, note);
        Vec::new()
    }
}

/// A provider that knows its kinds' order, stages and holders and never
/// calls a cloud: for tests of the graphs the engine builds.
#[cfg(test)]
pub struct Offline {
    pub order: Vec<&'static str>,
    pub stages: fn(&str) -> Vec<Stage>,
    pub held_by: fn(&str) -> Vec<&'static str>,
}

#[cfg(test)]
#[async_trait]
impl Provider for Offline {
    fn schemas(&self) -> Vec<&'static Schema> {
        Vec::new()
    }
    fn expand(&self, _: &mut Declaration) -> Result<(), DeclError> {
        Ok(())
    }
    fn validate(&self, _: &Declaration) -> Result<(), DeclError> {
        Ok(())
    }
    fn sweep_order(&self) -> Vec<&'static str> {
        self.order.clone()
    }
    fn held_by(&self, kind: &str) -> Vec<&'static str> {
        (self.held_by)(kind)
    }
    fn stages(&self, kind: &str, _: &IndexMap<String, Value>) -> Vec<Stage> {
        (self.stages)(kind)
    }
    async fn create(&self, _: CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        Err(ProviderError::other("offline"))
    }
    async fn update(&self, _: UpdateRequest<'_>) -> Result<Attrs, ProviderError> {
        Err(ProviderError::other("offline"))
    }
    async fn delete(&self, _: DeleteRequest<'_>) -> Result<(), ProviderError> {
        Err(ProviderError::other("offline"))
    }
    async fn tagged(&self, _: &str, _: Note<'_>) -> Result<Vec<Tagged>, ProviderError> {
        Err(ProviderError::other("offline"))
    }
}

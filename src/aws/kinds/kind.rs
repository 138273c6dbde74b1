//! What every resource kind is: the [`Kind`] trait, the clients kinds work
//! with, and helpers kinds share.

use crate::cost::Price;
use crate::engine::decl::{DeclError, Declaration, ResourceDecl};
use crate::engine::provider::{
    Attrs, CreateRequest, DeleteRequest, ProviderError, Stage, Tagged, UpdateRequest,
};
use crate::engine::schema::Schema;
use crate::engine::value::Value;
use async_trait::async_trait;
use indexmap::IndexMap;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedSender;

/// The clients a kind works with, and where its calls say what they retried.
#[derive(Debug, Clone)]
pub struct Cx {
    pub ec2: aws_sdk_ec2::Client,
    pub s3: aws_sdk_s3::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    /// The endpoint is plain HTTP (an emulator): TLS-only rules cannot hold.
    pub plain_http: bool,
    /// Notes for the progress of the operation under way.
    pub(crate) notes: Option<UnboundedSender<String>>,
    /// A permit per call in flight.
    pub(crate) slots: Arc<Semaphore>,
}

impl Cx {
    /// Tells the progress of the operation under way (or the log, outside one).
    pub fn note(&self, message: &str) {
        match &self.notes {
            Some(notes) if notes.send(message.to_string()).is_ok() => {}
            _ => tracing::warn!(target: "labrun::aws", "{message}"),
        }
    }
}

/// One kind of AWS resource: its schema, checks, price, place in a sweep,
/// the stages of making one, and how it is made, updated, deleted and found
/// by its tags. Adding a kind is its file plus one line in [`super::KINDS`];
/// every call goes through [`crate::aws::retry`].
#[async_trait]
pub trait Kind: Send + Sync {
    /// Its fields.
    fn schema(&self) -> &'static Schema;
    /// When a sweep deletes it: lower first (whatever uses others goes first).
    fn sweep_rank(&self) -> u8;
    /// The kinds one of this kind keeps from being deleted while it exists
    /// (an instance its subnet and security groups); each ranks higher in a
    /// sweep. What holds a kind is derived from these: [`super::held_by`].
    fn holds(&self) -> &'static [&'static str] {
        &[]
    }
    /// What one costs per hour, from its declared properties.
    fn price(&self, props: &IndexMap<String, Value>) -> Price {
        let _ = props;
        Price::default()
    }
    /// Checks against the rest of the declaration (e.g. a CIDR inside its VPC).
    fn check(&self, r: &ResourceDecl, decl: &Declaration) -> Result<(), DeclError> {
        let _ = (r, decl);
        Ok(())
    }
    /// The stages of making one with these properties (default: one).
    fn stages(&self, props: &IndexMap<String, Value>) -> Vec<Stage> {
        let _ = props;
        vec![Stage::WHOLE]
    }
    /// Carries out stage `req.stage`; the stage that makes the resource tags
    /// it at creation and calls `req.record_id` as soon as the ID is known.
    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError>;
    /// Updates the fields the schema marks in-place.
    async fn update(&self, cx: &Cx, req: &UpdateRequest<'_>) -> Result<Attrs, ProviderError> {
        let _ = cx;
        Err(ProviderError::other(format!(
            "{} cannot be updated in place",
            req.kind
        )))
    }
    /// Deletes it (detaching whatever must be detached first) and waits until it is gone.
    async fn delete(&self, cx: &Cx, req: &DeleteRequest<'_>) -> Result<(), ProviderError>;
    /// Everything of this kind tagged with `lab` that still exists.
    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError>;
    /// What keeps one in use, for a delete that has to wait: IDs with what they are.
    async fn holders(&self, cx: &Cx, id: &str) -> Result<Vec<String>, ProviderError> {
        let _ = (cx, id);
        Ok(Vec::new())
    }
}

/// Builds a `Tagged` entry.
pub fn tagged(kind: &str, id: Option<&str>, tags: &[aws_sdk_ec2::types::Tag]) -> Option<Tagged> {
    Some(Tagged {
        kind: kind.to_string(),
        id: id?.to_string(),
        address: crate::aws::tags::value(tags, crate::aws::tags::RESOURCE),
    })
}

/// The ID a later stage works on (an earlier stage recorded it).
pub fn recorded<'a>(req: &CreateRequest<'a>) -> Result<&'a str, ProviderError> {
    req.id.ok_or_else(|| {
        ProviderError::other(format!(
            "{}: stage {} needs the ID an earlier stage records",
            req.address, req.stage
        ))
    })
}

/// The error for a stage a kind does not have.
pub fn no_stage(req: &CreateRequest<'_>) -> ProviderError {
    ProviderError::other(format!("{} has no stage {}", req.kind, req.stage))
}

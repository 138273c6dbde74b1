//! What every resource kind is: the [`Kind`] trait, the clients kinds work
//! with, and a helper to report what a kind finds by its tags.

use crate::cost::Price;
use crate::engine::decl::{DeclError, Declaration, ResourceDecl};
use crate::engine::provider::{Attrs, CreateRequest, ProviderError, Tagged, UpdateRequest};
use crate::engine::schema::Schema;
use crate::engine::value::Value;
use async_trait::async_trait;
use indexmap::IndexMap;

/// The clients a kind works with.
#[derive(Debug, Clone)]
pub struct Cx {
    pub ec2: aws_sdk_ec2::Client,
    pub s3: aws_sdk_s3::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    /// The endpoint is plain HTTP (an emulator): TLS-only rules cannot hold.
    pub plain_http: bool,
}

/// One kind of AWS resource: its schema, checks, price, place in a sweep,
/// and how it is created, updated, deleted and found by its tags. Adding a
/// kind is its file plus one line in [`super::KINDS`].
#[async_trait]
pub trait Kind: Send + Sync {
    /// Its fields.
    fn schema(&self) -> &'static Schema;
    /// When a sweep deletes it: lower first (whatever uses others goes first).
    fn sweep_rank(&self) -> u8;
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
    /// Creates it, tagged at creation; calls `req.record_id` as soon as the ID is known.
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
    async fn delete(&self, cx: &Cx, id: &str) -> Result<(), ProviderError>;
    /// Everything of this kind tagged with `lab` that still exists.
    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError>;
}

/// Builds a `Tagged` entry.
pub fn tagged(kind: &str, id: Option<&str>, tags: &[aws_sdk_ec2::types::Tag]) -> Option<Tagged> {
    Some(Tagged {
        kind: kind.to_string(),
        id: id?.to_string(),
        address: crate::aws::tags::value(tags, crate::aws::tags::RESOURCE),
    })
}

//! The tags every resource gets at creation, and filters to find them again.

use crate::engine::provider::CreateRequest;
use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};

/// Tag naming the lab.
pub const LAB: &str = "labrun:lab";
/// Tag naming the resource's address in the lab.
pub const RESOURCE: &str = "labrun:resource";
/// Tag naming the create that made it (its idempotency token), so a
/// create whose answer was lost finds exactly what it made.
pub const TOKEN: &str = "labrun:token";

/// The tags of what `req` creates: lab, address, token and a readable `Name`.
pub fn pairs(req: &CreateRequest<'_>) -> [(&'static str, String); 4] {
    let name = req.address.split_once('.').map_or(req.address, |(_, n)| n);
    [
        (LAB, req.lab.to_string()),
        (RESOURCE, req.address.to_string()),
        (TOKEN, req.token.to_string()),
        ("Name", format!("{}-{name}", req.lab)),
    ]
}

/// [`pairs`] as an EC2 tag specification for `kind`.
pub fn spec(kind: ResourceType, req: &CreateRequest<'_>) -> TagSpecification {
    pairs(req)
        .into_iter()
        .fold(
            TagSpecification::builder().resource_type(kind),
            |b, (k, v)| b.tags(Tag::builder().key(k).value(v).build()),
        )
        .build()
}

/// A describe filter for everything of `lab`.
pub fn lab_filter(lab: &str) -> Filter {
    filter(&format!("tag:{LAB}"), &[lab])
}

/// Describe filters for what `req` made: its lab, address and token.
pub fn made_by(req: &CreateRequest<'_>) -> Vec<Filter> {
    vec![
        lab_filter(req.lab),
        filter(&format!("tag:{RESOURCE}"), &[req.address]),
        filter(&format!("tag:{TOKEN}"), &[req.token]),
    ]
}

/// A describe filter on one attribute.
pub fn filter(name: &str, values: &[&str]) -> Filter {
    values
        .iter()
        .fold(Filter::builder().name(name), |b, v| b.values(*v))
        .build()
}

/// The value of tag `key`.
pub fn value(tags: &[Tag], key: &str) -> String {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
        .unwrap_or_default()
        .to_string()
}

//! The tags every resource gets at creation, and filters to find them again.

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};

/// Tag naming the lab.
pub const LAB: &str = "labrun:lab";
/// Tag naming the resource's address in the lab.
pub const RESOURCE: &str = "labrun:resource";

/// The tags of a resource of `lab` at `address`: lab, address and a readable `Name`.
pub fn pairs(lab: &str, address: &str) -> [(&'static str, String); 3] {
    let name = address.split_once('.').map_or(address, |(_, n)| n);
    [
        (LAB, lab.to_string()),
        (RESOURCE, address.to_string()),
        ("Name", format!("{lab}-{name}")),
    ]
}

/// [`pairs`] as an EC2 tag specification for `kind`.
pub fn spec(kind: ResourceType, lab: &str, address: &str) -> TagSpecification {
    pairs(lab, address)
        .into_iter()
        .fold(
            TagSpecification::builder().resource_type(kind),
            |b, (k, v)| b.tags(Tag::builder().key(k).value(v).build()),
        )
        .build()
}

/// A describe filter for everything of `lab`.
pub fn lab_filter(lab: &str) -> Filter {
    Filter::builder()
        .name(format!("tag:{LAB}"))
        .values(lab)
        .build()
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

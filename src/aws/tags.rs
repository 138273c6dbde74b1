//! The tags every resource gets at creation, and filters to find them again.

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};

/// Tag naming the lab.
pub const LAB: &str = "labrun:lab";
/// Tag naming the resource's address in the lab.
pub const RESOURCE: &str = "labrun:resource";

/// Tags for a resource of `lab` at `address`, plus a readable `Name`.
pub fn spec(kind: ResourceType, lab: &str, address: &str) -> TagSpecification {
    let name = address.split_once('.').map_or(address, |(_, n)| n);
    TagSpecification::builder()
        .resource_type(kind)
        .tags(Tag::builder().key(LAB).value(lab).build())
        .tags(Tag::builder().key(RESOURCE).value(address).build())
        .tags(
            Tag::builder()
                .key("Name")
                .value(format!("{lab}-{name}"))
                .build(),
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

//! The AWS resource kinds labrun can declare, one file each.

pub mod elastic_ip;
pub mod instance;
pub mod internet_gateway;
pub mod key_pair;
pub mod listener;
pub mod load_balancer;
pub mod network_interface;
pub mod route_table;
pub mod s3_bucket;
pub mod s3_object;
pub mod security_group;
pub mod subnet;
pub mod target_group;
pub mod vpc;

pub use kind::{Cx, Kind};

pub mod kind;

/// Every kind, in no particular order.
pub static KINDS: &[&dyn Kind] = &[
    &vpc::Vpc,
    &subnet::Subnet,
    &internet_gateway::InternetGateway,
    &route_table::RouteTable,
    &security_group::SecurityGroup,
    &network_interface::NetworkInterface,
    &elastic_ip::ElasticIp,
    &key_pair::KeyPair,
    &instance::Instance,
    &s3_bucket::S3Bucket,
    &s3_object::S3Object,
    &load_balancer::LoadBalancer,
    &target_group::TargetGroup,
    &listener::Listener,
];

/// Kinds in the order a sweep deletes them.
pub fn sweep_order() -> Vec<&'static str> {
    let mut kinds: Vec<&dyn Kind> = KINDS.to_vec();
    kinds.sort_by_key(|k| k.sweep_rank());
    kinds.iter().map(|k| k.schema().kind).collect()
}

/// The kinds whose resources keep one of kind `name` from being deleted
/// while they exist: those that say they hold it.
pub fn held_by(name: &str) -> Vec<&'static str> {
    KINDS
        .iter()
        .filter(|k| k.holds().contains(&name))
        .map(|k| k.schema().kind)
        .collect()
}

/// The kind called `name`.
pub fn find(name: &str) -> Option<&'static dyn Kind> {
    KINDS.iter().copied().find(|k| k.schema().kind == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::graph::DEPENDS_ON;
    use crate::engine::value::{Ref, Value};
    use indexmap::IndexMap;

    /// Properties that pick each kind's other stage lists.
    fn variants() -> Vec<IndexMap<String, Value>> {
        let handle = Value::Ref(Ref {
            address: "network_interface.n".into(),
            attr: "id".into(),
        });
        vec![
            IndexMap::new(),
            IndexMap::from([("public".to_string(), Value::Bool(true))]),
            IndexMap::from([("source_dest_check".to_string(), Value::Bool(false))]),
            IndexMap::from([("network_interface".to_string(), handle)]),
        ]
    }

    #[test]
    fn what_holds_a_kind_is_swept_before_it() {
        for kind in KINDS {
            for held in kind.holds() {
                let held = find(held).expect("a kind");
                assert!(
                    kind.sweep_rank() <= held.sweep_rank(),
                    "{} holds {} but is swept after it",
                    kind.schema().kind,
                    held.schema().kind
                );
            }
        }
    }

    #[test]
    fn a_kind_is_held_by_the_kinds_that_say_they_hold_it() {
        let held_by = |name| {
            let mut kinds = held_by(name);
            kinds.sort_unstable();
            kinds
        };
        assert_eq!(
            held_by("subnet"),
            ["instance", "load_balancer", "network_interface"]
        );
        assert_eq!(
            held_by("security_group"),
            ["instance", "load_balancer", "network_interface"]
        );
        assert_eq!(
            held_by("vpc"),
            [
                "instance",
                "internet_gateway",
                "network_interface",
                "route_table",
                "security_group",
                "subnet"
            ]
        );
        assert_eq!(held_by("network_interface"), ["elastic_ip", "instance"]);
        assert_eq!(held_by("target_group"), ["listener"]);
        assert_eq!(held_by("s3_bucket"), ["s3_object"]);
        assert!(held_by("instance").is_empty());
        assert!(held_by("no_such_kind").is_empty());
    }

    #[test]
    fn every_kinds_stages_run_in_order_on_its_own_fields_and_attributes() {
        for kind in KINDS {
            let schema = kind.schema();
            for props in variants() {
                let stages = kind.stages(&props);
                let what = format!("{} with {props:?}", schema.kind);
                assert!(!stages.is_empty(), "{what}");
                assert!(stages[0].after.is_empty(), "{what}: the first runs first");
                for (n, stage) in stages.iter().enumerate().skip(1) {
                    assert!(!stage.after.is_empty(), "{what}: {} runs after", stage.name);
                    for before in stage.after {
                        assert!(
                            stages[..n].iter().any(|s| s.name == *before),
                            "{what}: {} after {before}, an earlier stage",
                            stage.name
                        );
                    }
                }
                for stage in &stages {
                    for need in stage.needs {
                        assert!(
                            *need == DEPENDS_ON || schema.field(need).is_some(),
                            "{what}: {} needs {need}, not a field",
                            stage.name
                        );
                    }
                    for attr in stage.gives {
                        assert!(
                            *attr == "id" || schema.attrs.contains(attr),
                            "{what}: {} gives {attr}, not an attribute",
                            stage.name
                        );
                    }
                }
            }
        }
    }
}

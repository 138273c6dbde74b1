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

/// The kind called `name`.
pub fn find(name: &str) -> Option<&'static dyn Kind> {
    KINDS.iter().copied().find(|k| k.schema().kind == name)
}

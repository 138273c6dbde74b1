//! What a lab left in AWS, found by its `labrun:lab` tag through the EC2,
//! ELBv2 and S3 APIs (never through labrun's own state).

use super::Moto;
use aws_sdk_ec2::types::{Filter, Tag};
use std::collections::BTreeMap;

/// One resource tagged with a lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// labrun's kind name: `vpc`, `subnet`, `instance`, `s3_bucket`...
    pub kind: &'static str,
    pub id: String,
    /// Its `labrun:resource` tag (the logical name), empty when missing.
    pub resource: String,
    /// A terminated instance (still listed by EC2 for a while, costs nothing).
    pub terminated: bool,
}

fn resource_of(tags: &[Tag]) -> String {
    tags.iter()
        .find(|t| t.key() == Some("labrun:resource"))
        .and_then(|t| t.value())
        .unwrap_or_default()
        .to_string()
}

fn live(kind: &'static str, id: Option<&str>, tags: &[Tag]) -> Found {
    Found {
        kind,
        id: id.unwrap_or_default().to_string(),
        resource: resource_of(tags),
        terminated: false,
    }
}

/// Every resource tagged with `lab`, terminated instances included, described
/// kind by kind.
pub async fn found(moto: &Moto, lab: &str) -> Vec<Found> {
    let ec2 = &moto.ec2().await;
    let f = || Filter::builder().name("tag:labrun:lab").values(lab).build();
    let mut all = Vec::new();
    let o = ec2.describe_vpcs().filters(f()).send().await.unwrap();
    all.extend(o.vpcs().iter().map(|x| live("vpc", x.vpc_id(), x.tags())));
    let o = ec2.describe_subnets().filters(f()).send().await.unwrap();
    all.extend(
        o.subnets()
            .iter()
            .map(|x| live("subnet", x.subnet_id(), x.tags())),
    );
    let o = ec2
        .describe_internet_gateways()
        .filters(f())
        .send()
        .await
        .unwrap();
    all.extend(
        o.internet_gateways()
            .iter()
            .map(|x| live("internet_gateway", x.internet_gateway_id(), x.tags())),
    );
    let o = ec2
        .describe_route_tables()
        .filters(f())
        .send()
        .await
        .unwrap();
    all.extend(
        o.route_tables()
            .iter()
            .map(|x| live("route_table", x.route_table_id(), x.tags())),
    );
    let o = ec2
        .describe_security_groups()
        .filters(f())
        .send()
        .await
        .unwrap();
    all.extend(
        o.security_groups()
            .iter()
            .map(|x| live("security_group", x.group_id(), x.tags())),
    );
    let o = ec2
        .describe_network_interfaces()
        .filters(f())
        .send()
        .await
        .unwrap();
    all.extend(
        o.network_interfaces()
            .iter()
            .map(|x| live("network_interface", x.network_interface_id(), x.tag_set())),
    );
    let o = ec2.describe_addresses().filters(f()).send().await.unwrap();
    all.extend(
        o.addresses()
            .iter()
            .map(|x| live("elastic_ip", x.allocation_id(), x.tags())),
    );
    let o = ec2.describe_key_pairs().filters(f()).send().await.unwrap();
    all.extend(
        o.key_pairs()
            .iter()
            .map(|x| live("key_pair", x.key_pair_id(), x.tags())),
    );
    let o = ec2.describe_instances().filters(f()).send().await.unwrap();
    all.extend(
        o.reservations()
            .iter()
            .flat_map(|r| r.instances())
            .map(|x| Found {
                terminated: x.state().and_then(|s| s.name()).map(|n| n.as_str())
                    == Some("terminated"),
                ..live("instance", x.instance_id(), x.tags())
            }),
    );
    all.extend(elbv2_found(&moto.elbv2().await, lab).await);
    let s3 = moto.s3().await;
    for (name, tags) in bucket_tags(&s3).await {
        if tags.get("labrun:lab").map(String::as_str) == Some(lab) {
            all.push(Found {
                kind: "s3_bucket",
                id: name,
                resource: tags.get("labrun:resource").cloned().unwrap_or_default(),
                terminated: false,
            });
        }
    }
    all
}

/// The load balancers, their listeners and the target groups tagged with
/// `lab` (ELBv2 lists nothing by tag: each is described, then its tags).
async fn elbv2_found(elb: &aws_sdk_elasticloadbalancingv2::Client, lab: &str) -> Vec<Found> {
    let mut arns = Vec::new();
    let lbs = elb.describe_load_balancers().send().await.unwrap();
    for lb in lbs.load_balancers() {
        let arn = lb.load_balancer_arn().unwrap();
        arns.push(("load_balancer", arn.to_string()));
        let listeners = elb
            .describe_listeners()
            .load_balancer_arn(arn)
            .send()
            .await
            .unwrap();
        arns.extend(
            listeners
                .listeners()
                .iter()
                .map(|l| ("listener", l.listener_arn().unwrap().to_string())),
        );
    }
    let groups = elb.describe_target_groups().send().await.unwrap();
    arns.extend(
        groups
            .target_groups()
            .iter()
            .map(|g| ("target_group", g.target_group_arn().unwrap().to_string())),
    );
    let mut found = Vec::new();
    for (kind, arn) in arns {
        let out = elb
            .describe_tags()
            .resource_arns(&arn)
            .send()
            .await
            .unwrap();
        let tags: BTreeMap<&str, &str> = out
            .tag_descriptions()
            .iter()
            .flat_map(|d| d.tags())
            .filter_map(|t| Some((t.key()?, t.value()?)))
            .collect();
        if tags.get("labrun:lab") == Some(&lab) {
            found.push(Found {
                kind,
                id: arn.clone(),
                resource: tags.get("labrun:resource").unwrap_or(&"").to_string(),
                terminated: false,
            });
        }
    }
    found
}

/// Everything still tagged with `lab` (terminated instances left out), as
/// `kind id` lines.
pub async fn tagged(moto: &Moto, lab: &str) -> Vec<String> {
    found(moto, lab)
        .await
        .into_iter()
        .filter(|f| !f.terminated)
        .map(|f| format!("{} {}", f.kind, f.id))
        .collect()
}

/// The logical resources of `lab` (by `labrun:resource` tag) that exist
/// more than once (terminated instances count: they were launched), with their IDs.
pub async fn made_twice(moto: &Moto, lab: &str) -> BTreeMap<String, Vec<String>> {
    let mut by_resource: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in found(moto, lab).await {
        let key = if f.resource.is_empty() {
            format!("{} without labrun:resource", f.kind)
        } else {
            f.resource
        };
        by_resource.entry(key).or_default().push(f.id);
    }
    by_resource.retain(|_, ids| ids.len() > 1);
    by_resource
}

/// Every bucket with its tags (none when it has no tagging).
async fn bucket_tags(s3: &aws_sdk_s3::Client) -> Vec<(String, BTreeMap<String, String>)> {
    let mut all = Vec::new();
    for b in s3.list_buckets().send().await.unwrap().buckets() {
        let name = b.name().unwrap().to_string();
        let tags = match s3.get_bucket_tagging().bucket(&name).send().await {
            Ok(t) => t
                .tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
            Err(_) => BTreeMap::new(),
        };
        all.push((name, tags));
    }
    all
}

/// The S3 buckets tagged with `lab`.
pub async fn lab_buckets(s3: &aws_sdk_s3::Client, lab: &str) -> Vec<String> {
    bucket_tags(s3)
        .await
        .into_iter()
        .filter(|(_, tags)| tags.get("labrun:lab").map(String::as_str) == Some(lab))
        .map(|(name, _)| name)
        .collect()
}

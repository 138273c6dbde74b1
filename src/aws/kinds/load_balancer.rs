//! `load_balancer`: a network load balancer (ELBv2) with fixed private
//! addresses, and what the three ELBv2 kinds share: names, tags at creation,
//! finding a lab's resources by their tags.
//!
//! Deleting one waits until AWS has removed its network interfaces: they
//! outlive the load balancer by minutes and keep its subnets and security
//! groups from being deleted.

use super::kind::{Cx, Kind, no_stage, recorded};
use crate::aws::errors::missing;
use crate::aws::props::Props;
use crate::aws::validate::{check_ip_in_subnet, fail};
use crate::aws::{retry, tags};
use crate::cost::{self, Price};
use crate::engine::decl::{DeclError, Declaration, ResourceDecl};
use crate::engine::provider::{
    Attrs, CreateRequest, DeleteRequest, ErrorClass, ProviderError, Stage, Tagged,
};
use crate::engine::schema::{Field, Schema, Type};
use crate::engine::value::Value;
use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    LoadBalancerSchemeEnum, LoadBalancerStateEnum, LoadBalancerTypeEnum, SubnetMapping, Tag,
    TagDescription,
};
use indexmap::IndexMap;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

/// The `load_balancer` kind.
pub struct LoadBalancer;

/// A network load balancer per hour in us-east-1 (as of
/// [`cost::PRICES_AS_OF`]), before capacity units (NLCU), which a lab's
/// traffic hardly uses.
const NLB_HOUR: f64 = 0.0225;

static MAPPING: &[Field] = &[
    Field::required("subnet", Type::Ref("subnet"), "the subnet"),
    Field::optional(
        "private_ip",
        Type::Ip,
        "fixed private address in it, internal load balancers only (default: AWS picks)",
    ),
];

static SCHEMA: Schema = Schema {
    kind: "load_balancer",
    doc: "A network load balancer (TCP), with a fixed private address per subnet if asked.",
    fields: &[
        Field::required(
            "subnets",
            Type::List(&Type::Object(MAPPING)),
            "where it listens, at most one subnet per availability zone: { subnet = ..., private_ip = ... }",
        ),
        Field::optional(
            "scheme",
            Type::OneOf(&["internal", "internet-facing"]),
            "internal (default) or internet-facing",
        ),
        Field::optional(
            "security_groups",
            Type::List(&Type::Ref("security_group")),
            "security groups (an NLB created without any can never have some)",
        ),
    ],
    attrs: &["dns_name", "zone_id"],
};

/// How long AWS may take to make a load balancer active.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(600);
/// How long AWS may keep a deleted load balancer's network interfaces.
const INTERFACES_TIMEOUT: Duration = Duration::from_secs(900);

/// The name of an ELBv2 resource of `lab` at `address`: `<lab>-<name>` in
/// letters, digits and single hyphens, at most 32 characters (longer ones
/// end in a digest of the whole), never starting with `internal-`.
pub fn name(lab: &str, address: &str) -> String {
    let short = address.split_once('.').map_or(address, |(_, n)| n);
    let mut out = String::new();
    for c in format!("{lab}-{short}").chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if !(c == '-' && (out.is_empty() || out.ends_with('-'))) {
            out.push(c);
        }
    }
    let mut out = out.trim_end_matches('-').to_string();
    if out.starts_with("internal-") {
        out.insert_str(0, "lab-");
    }
    if out.len() > 32 {
        let digest = hex::encode(Sha256::digest(format!("{lab}/{address}")));
        out.truncate(23);
        out = format!("{}-{}", out.trim_end_matches('-'), &digest[..8]);
    }
    out
}

/// The tags every ELBv2 resource `req` makes gets at creation.
pub fn creation_tags(req: &CreateRequest<'_>) -> Vec<Tag> {
    tags::pairs(req)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// The tags of the ELBv2 resources `arns`.
async fn tags_of(cx: &Cx, arns: &[String]) -> Result<Vec<TagDescription>, ProviderError> {
    // DescribeTags takes at most 20 resources a call.
    let calls = arns.chunks(20).map(|chunk| async move {
        let b = cx
            .elbv2
            .describe_tags()
            .set_resource_arns(Some(chunk.to_vec()));
        let out = retry::send(cx, "DescribeTags", || b.clone().send()).await?;
        Ok::<_, ProviderError>(out.tag_descriptions.unwrap_or_default())
    });
    let pages = futures::future::try_join_all(calls).await?;
    Ok(pages.into_iter().flatten().collect())
}

/// The value of tag `key` of a described ELBv2 resource.
fn tag<'a>(d: &'a TagDescription, key: &str) -> Option<&'a str> {
    d.tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// Of the ELBv2 resources `arns` of kind `kind`, those tagged with `lab`.
pub async fn of_lab(
    cx: &Cx,
    kind: &str,
    arns: &[String],
    lab: &str,
) -> Result<Vec<Tagged>, ProviderError> {
    Ok(tags_of(cx, arns)
        .await?
        .iter()
        .filter(|d| tag(d, tags::LAB) == Some(lab))
        .filter_map(|d| {
            Some(Tagged {
                kind: kind.to_string(),
                id: d.resource_arn()?.to_string(),
                address: tag(d, tags::RESOURCE).unwrap_or_default().to_string(),
            })
        })
        .collect())
}

/// Of the ELBv2 resources `arns`, the one `req` made (its lab, address and
/// token tags): what a create whose answer was lost made.
pub async fn made_by(
    cx: &Cx,
    arns: &[String],
    req: &CreateRequest<'_>,
) -> Result<Option<String>, ProviderError> {
    Ok(tags_of(cx, arns)
        .await?
        .iter()
        .find(|d| {
            tag(d, tags::LAB) == Some(req.lab)
                && tag(d, tags::RESOURCE) == Some(req.address)
                && tag(d, tags::TOKEN) == Some(req.token)
        })
        .and_then(|d| d.resource_arn().map(String::from)))
}

/// The ARNs a marker-paged ELBv2 listing gives (`arns` reads a page's);
/// none when what it lists under is gone, or no resource has a name asked for.
pub async fn listed<P, E, Fut>(
    cx: &Cx,
    op: &str,
    call: impl Fn(Option<String>) -> Fut,
    next: impl Fn(&P) -> Option<String>,
    arns: impl Fn(P) -> Vec<String>,
) -> Result<Vec<String>, ProviderError>
where
    Fut: std::future::Future<Output = Result<P, crate::aws::errors::Sdk<E>>> + Send + 'static,
    P: Send + 'static,
    E: aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
{
    match retry::pages(cx, op, call, next).await {
        Ok(pages) => Ok(pages.into_iter().flat_map(arns).collect()),
        Err(e) if e.class == ErrorClass::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The ARNs of the load balancers named `names` (none: all of them).
async fn arns(cx: &Cx, names: &[String]) -> Result<Vec<String>, ProviderError> {
    let list =
        (cx.elbv2.describe_load_balancers()).set_names((!names.is_empty()).then(|| names.to_vec()));
    listed(
        cx,
        "DescribeLoadBalancers",
        |marker| list.clone().set_marker(marker).send(),
        |page| page.next_marker.clone(),
        |page| {
            (page.load_balancers.into_iter().flatten())
                .filter_map(|lb| lb.load_balancer_arn)
                .collect()
        },
    )
    .await
}

/// The load balancers tagged with `lab`.
pub async fn load_balancers_of_lab(cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
    of_lab(cx, SCHEMA.kind, &arns(cx, &[]).await?, lab).await
}

/// Waits until the load balancer is active; its attributes.
async fn wait_active(cx: &Cx, arn: &str) -> Result<Attrs, ProviderError> {
    let start = Instant::now();
    let mut delay = Duration::from_millis(500);
    loop {
        let b = cx.elbv2.describe_load_balancers().load_balancer_arns(arn);
        let out = retry::send(cx, "DescribeLoadBalancers", || b.clone().send()).await?;
        let lb = out
            .load_balancers()
            .first()
            .ok_or_else(|| missing("DescribeLoadBalancers", "load balancer"))?;
        let state = lb.state();
        match state.and_then(|s| s.code()) {
            Some(LoadBalancerStateEnum::Active) => {
                let s = |v: Option<&str>| v.unwrap_or_default().into();
                return Ok(Attrs::from([
                    ("dns_name".into(), s(lb.dns_name())),
                    ("zone_id".into(), s(lb.canonical_hosted_zone_id())),
                ]));
            }
            Some(LoadBalancerStateEnum::Failed) => {
                return Err(ProviderError::other(format!(
                    "load balancer {arn} failed: {}",
                    state.and_then(|s| s.reason()).unwrap_or("no reason given")
                )));
            }
            code => {
                if start.elapsed() > ACTIVE_TIMEOUT {
                    return Err(ProviderError::other(format!(
                        "load balancer {arn} still {} after {ACTIVE_TIMEOUT:?}",
                        code.map_or("in no state", |c| c.as_str())
                    )));
                }
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

/// The description AWS gives the network interfaces of load balancer `arn`:
/// `ELB net/<name>/<id>`.
fn interface_description(arn: &str) -> Option<String> {
    arn.split_once(":loadbalancer/")
        .map(|(_, path)| format!("ELB {path}"))
}

/// Waits until AWS has removed the network interfaces of deleted load balancer `arn`.
async fn wait_interfaces_gone(cx: &Cx, arn: &str) -> Result<(), ProviderError> {
    let Some(description) = interface_description(arn) else {
        return Err(ProviderError::other(format!(
            "'{arn}' is not a load balancer ARN"
        )));
    };
    let start = Instant::now();
    let mut delay = Duration::from_secs(2);
    loop {
        let b = (cx.ec2.describe_network_interfaces())
            .filters(tags::filter("description", &[&description]));
        let out = retry::send(cx, "DescribeNetworkInterfaces", || b.clone().send()).await?;
        let left: Vec<&str> = out
            .network_interfaces()
            .iter()
            .filter_map(|n| n.network_interface_id())
            .collect();
        if left.is_empty() {
            return Ok(());
        }
        if start.elapsed() > INTERFACES_TIMEOUT {
            return Err(ProviderError::other(format!(
                "load balancer {arn} is deleted, but AWS still keeps its network interfaces {} after {} minutes; \
                     they keep its subnets and security groups from being deleted. AWS removes them by itself: \
                     run `labrun down` again in a few minutes",
                left.join(", "),
                INTERFACES_TIMEOUT.as_secs() / 60
            )));
        }
        cx.note(&format!(
            "waiting for AWS to remove its network interfaces {}",
            left.join(", ")
        ));
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(15));
    }
}

/// Made, then usable (its listeners added, its DNS name known) once active.
static STAGES: &[Stage] = &[
    Stage::first("create", &[]),
    Stage::after("active", &["create"], &[]).giving(&["id", "dns_name", "zone_id"]),
];

fn is_internet_facing(props: &IndexMap<String, Value>) -> bool {
    props.get("scheme").and_then(Value::as_str) == Some("internet-facing")
}

#[async_trait]
impl Kind for LoadBalancer {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        16
    }

    fn holds(&self) -> &'static [&'static str] {
        &["subnet", "security_group"]
    }

    fn price(&self, props: &IndexMap<String, Value>) -> Price {
        if !is_internet_facing(props) {
            return Price {
                hourly: NLB_HOUR,
                note: "NLB, before capacity units".into(),
            };
        }
        let n = match props.get("subnets") {
            Some(Value::List(l)) => l.len(),
            _ => 1,
        };
        Price {
            hourly: NLB_HOUR + n as f64 * cost::PUBLIC_IPV4_HOUR,
            note: format!("NLB, before capacity units + {n} public IPv4"),
        }
    }

    fn check(&self, r: &ResourceDecl, decl: &Declaration) -> Result<(), DeclError> {
        let Some(Value::List(mappings)) = r.props.get("subnets") else {
            return Ok(());
        };
        if mappings.is_empty() {
            return Err(fail(r, "subnets must name at least one subnet".into()));
        }
        let mut seen = Vec::new();
        for m in mappings {
            let Value::Map(m) = m else { continue };
            if is_internet_facing(&r.props) && m.contains_key("private_ip") {
                return Err(fail(
                    r,
                    "private_ip is for internal load balancers only (AWS gives an internet-facing one its addresses)"
                        .into(),
                ));
            }
            if let Some(Value::Ref(s)) = m.get("subnet") {
                if seen.contains(&&s.address) {
                    return Err(fail(r, format!("subnets names {} twice", s.address)));
                }
                seen.push(&s.address);
            }
            check_ip_in_subnet(r, decl, m.get("subnet"), m.get("private_ip"))?;
        }
        Ok(())
    }

    fn stages(&self, _props: &IndexMap<String, Value>) -> Vec<Stage> {
        STAGES.to_vec()
    }

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        if req.stage == "active" {
            return wait_active(cx, recorded(req)?).await;
        }
        if req.stage != "create" {
            return Err(no_stage(req));
        }
        let p = Props(req.props);
        let mappings = p
            .list("subnets")
            .iter()
            .map(|m| {
                let m = Props(m);
                Ok(SubnetMapping::builder()
                    .subnet_id(m.req("subnet")?)
                    .set_private_ipv4_address(m.str("private_ip").map(String::from))
                    .build())
            })
            .collect::<Result<Vec<_>, ProviderError>>()?;
        let groups = p.strs("security_groups");
        let lb_name = name(req.lab, req.address);
        let b = (cx.elbv2.create_load_balancer())
            .name(&lb_name)
            .r#type(LoadBalancerTypeEnum::Network)
            .scheme(LoadBalancerSchemeEnum::from(
                p.str("scheme").unwrap_or("internal"),
            ))
            .set_subnet_mappings(Some(mappings))
            .set_security_groups((!groups.is_empty()).then_some(groups))
            .set_tags(Some(creation_tags(req)));
        let arn = retry::create(
            cx,
            "CreateLoadBalancer",
            || b.clone().send(),
            |out| (out.load_balancers?.into_iter()).find_map(|lb| lb.load_balancer_arn),
            || async { made_by(cx, &arns(cx, std::slice::from_ref(&lb_name)).await?, req).await },
        )
        .await?;
        (req.record_id)(&arn);
        Ok(Attrs::new())
    }

    async fn delete(&self, cx: &Cx, req: &DeleteRequest<'_>) -> Result<(), ProviderError> {
        // Its listeners go with it. Gone already still waits for its interfaces.
        let b = cx.elbv2.delete_load_balancer().load_balancer_arn(req.id);
        match retry::send(cx, "DeleteLoadBalancer", || b.clone().send()).await {
            Err(e) if e.class != ErrorClass::NotFound => return Err(e),
            _ => {}
        }
        wait_interfaces_gone(cx, req.id).await
    }

    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        load_balancers_of_lab(cx, lab).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_elbv2_rules_and_stay_apart() {
        assert_eq!(name("kube", "load_balancer.api"), "kube-api");
        assert_eq!(name("kube_hard", "target_group.api--x_"), "kube-hard-api-x");
        assert_eq!(name("internal", "load_balancer.api"), "lab-internal-api");
        let long = name(&"a".repeat(40), "load_balancer.api");
        let other = name(&"a".repeat(40), "load_balancer.apj");
        assert_eq!(long.len(), 32, "{long}");
        assert_ne!(long, other);
        assert!(
            long.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !long.contains("--"),
            "{long}"
        );
    }

    #[test]
    fn interfaces_are_found_by_the_description_aws_gives_them() {
        assert_eq!(
            interface_description(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/kube-api/50dc6c495c0c9188"
            )
            .as_deref(),
            Some("ELB net/kube-api/50dc6c495c0c9188")
        );
        assert_eq!(interface_description("eni-1"), None);
    }

    #[test]
    fn an_internet_facing_nlb_pays_for_its_public_addresses() {
        let mut props = IndexMap::new();
        assert_eq!(LoadBalancer.price(&props).hourly, 0.0225);
        props.insert("scheme".into(), Value::Str("internet-facing".into()));
        props.insert(
            "subnets".into(),
            Value::List(vec![
                Value::Map(IndexMap::new()),
                Value::Map(IndexMap::new()),
            ]),
        );
        assert!((LoadBalancer.price(&props).hourly - 0.0325).abs() < 1e-12);
    }
}

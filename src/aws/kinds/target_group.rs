//! `target_group`: a TCP target group of IP targets, with its TCP health
//! check; targets and health check change in place.

use super::kind::{Cx, Kind, no_stage, recorded};
use super::load_balancer::{creation_tags, listed, made_by, name, of_lab};
use crate::aws::props::Props;
use crate::aws::retry;
use crate::aws::validate::{check_range, fail, referenced_cidr};
use crate::engine::decl::{DeclError, Declaration, ResourceDecl};
use crate::engine::provider::{
    Attrs, CreateRequest, DeleteRequest, ProviderError, Stage, Tagged, UpdateRequest,
};
use crate::engine::schema::{Field, Schema, Type};
use crate::engine::value::Value;
use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, TargetDescription, TargetTypeEnum};
use indexmap::IndexMap;
use serde_json::Value as Json;
use std::net::Ipv4Addr;

/// The `target_group` kind.
pub struct TargetGroup;

static TARGET: &[Field] = &[
    Field::required(
        "ip",
        Type::Ip,
        "the target's private address, inside the VPC",
    ),
    Field::optional("port", Type::Int, "its port (default: the group's)"),
];

static HEALTH_CHECK: &[Field] = &[
    Field::optional(
        "port",
        Type::Int,
        "port probed (default: each target's traffic port)",
    ),
    Field::optional(
        "interval",
        Type::Int,
        "seconds between probes, 5-300 (default 30)",
    ),
    Field::optional(
        "timeout",
        Type::Int,
        "seconds a probe may take, 2-120, at most the interval (default 10)",
    ),
    Field::optional(
        "healthy_threshold",
        Type::Int,
        "probes that must succeed to count a target healthy, 2-10 (default 5)",
    ),
    Field::optional(
        "unhealthy_threshold",
        Type::Int,
        "probes that must fail to count a target unhealthy, 2-10 (default 2)",
    ),
];

static SCHEMA: Schema = Schema {
    kind: "target_group",
    doc: "A TCP target group of IP targets, checked by a TCP health check.",
    fields: &[
        Field::required("vpc", Type::Ref("vpc"), "the VPC of its targets"),
        Field::required("port", Type::Int, "the port traffic goes to"),
        Field::optional(
            "targets",
            Type::List(&Type::Object(TARGET)),
            "registered targets: { ip = ..., port = ... }",
        )
        .in_place(),
        Field::optional(
            "health_check",
            Type::Object(HEALTH_CHECK),
            "TCP health check settings",
        )
        .in_place(),
    ],
    attrs: &[],
};

/// A health check setting with AWS's default for TCP target groups.
fn health(p: Props<'_>, key: &str, default: i64) -> i32 {
    p.0.get("health_check")
        .and_then(|h| h.get(key))
        .and_then(Json::as_i64)
        .unwrap_or(default) as i32
}

/// The health check port: a number, or `traffic-port`.
fn health_port(p: Props<'_>) -> String {
    p.0.get("health_check")
        .and_then(|h| h.get("port"))
        .and_then(Json::as_i64)
        .map_or_else(|| "traffic-port".to_string(), |n| n.to_string())
}

/// A CreateTargetGroup or ModifyTargetGroup request with the TCP health
/// check of properties `p` (AWS's defaults for what they leave out).
macro_rules! with_health_check {
    ($request:expr, $p:expr) => {
        $request
            .health_check_protocol(ProtocolEnum::Tcp)
            .health_check_port(health_port($p))
            .health_check_interval_seconds(health($p, "interval", 30))
            .health_check_timeout_seconds(health($p, "timeout", 10))
            .healthy_threshold_count(health($p, "healthy_threshold", 5))
            .unhealthy_threshold_count(health($p, "unhealthy_threshold", 2))
    };
}

/// The targets as (ip, port), each port filled in from the group's.
fn targets(p: Props<'_>) -> Vec<(String, i32)> {
    let group_port = p.int("port").unwrap_or_default();
    p.list("targets")
        .iter()
        .filter_map(|t| {
            let t = Props(t);
            Some((
                t.str("ip")?.to_string(),
                t.int("port").unwrap_or(group_port) as i32,
            ))
        })
        .collect()
}

fn descriptions(targets: &[(String, i32)]) -> Vec<TargetDescription> {
    targets
        .iter()
        .map(|(ip, port)| TargetDescription::builder().id(ip).port(*port).build())
        .collect()
}

/// Registers (`add`) or deregisters `targets`.
async fn change(
    cx: &Cx,
    arn: &str,
    add: bool,
    targets: &[(String, i32)],
) -> Result<(), ProviderError> {
    if targets.is_empty() {
        return Ok(());
    }
    let targets = Some(descriptions(targets));
    if add {
        let b = (cx.elbv2.register_targets())
            .target_group_arn(arn)
            .set_targets(targets);
        retry::send(cx, "RegisterTargets", || b.clone().send()).await?;
    } else {
        let b = (cx.elbv2.deregister_targets())
            .target_group_arn(arn)
            .set_targets(targets);
        retry::send(cx, "DeregisterTargets", || b.clone().send()).await?;
    }
    Ok(())
}

/// The ARNs of the target groups named `names` (none: all of them).
async fn arns(cx: &Cx, names: &[String]) -> Result<Vec<String>, ProviderError> {
    let list =
        (cx.elbv2.describe_target_groups()).set_names((!names.is_empty()).then(|| names.to_vec()));
    listed(
        cx,
        "DescribeTargetGroups",
        |marker| list.clone().set_marker(marker).send(),
        |page| page.next_marker.clone(),
        |page| {
            (page.target_groups.into_iter().flatten())
                .filter_map(|g| g.target_group_arn)
                .collect()
        },
    )
    .await
}

/// Usable by listeners once made; its targets registered after.
static STAGES: &[Stage] = &[
    Stage::first("create", &["id"]),
    Stage::after("targets", &["create"], &["targets"]),
];

/// Checks the health check settings and the targets against the VPC.
fn check_targets(r: &ResourceDecl, decl: &Declaration) -> Result<(), DeclError> {
    let vpc = referenced_cidr(decl, r.props.get("vpc"));
    let Some(Value::List(targets)) = r.props.get("targets") else {
        return Ok(());
    };
    let mut seen = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let Value::Map(t) = t else { continue };
        let at = format!("targets[{}]", i + 1);
        check_range(r, &format!("{at}.port"), t.get("port"), 1, 65535)?;
        let Some(ip) = t
            .get("ip")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<Ipv4Addr>().ok())
        else {
            continue;
        };
        if let Some((name, net)) = &vpc
            && !net.contains(&ip)
        {
            return Err(fail(
                r,
                format!("{at}: ip {ip} is not inside {name}'s {net}"),
            ));
        }
        let port = t.get("port").or(r.props.get("port"));
        if seen.contains(&(ip, port)) {
            return Err(fail(r, format!("{at}: {ip} is a target twice")));
        }
        seen.push((ip, port));
    }
    Ok(())
}

#[async_trait]
impl Kind for TargetGroup {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        14
    }

    fn check(&self, r: &ResourceDecl, decl: &Declaration) -> Result<(), DeclError> {
        check_range(r, "port", r.props.get("port"), 1, 65535)?;
        if let Some(Value::Map(h)) = r.props.get("health_check") {
            check_range(r, "health_check.port", h.get("port"), 1, 65535)?;
            check_range(r, "health_check.interval", h.get("interval"), 5, 300)?;
            check_range(r, "health_check.timeout", h.get("timeout"), 2, 120)?;
            for key in ["healthy_threshold", "unhealthy_threshold"] {
                check_range(r, &format!("health_check.{key}"), h.get(key), 2, 10)?;
            }
            let int = |k| match h.get(k) {
                Some(Value::Int(n)) => Some(*n),
                _ => None,
            };
            let (interval, timeout) = (int("interval").unwrap_or(30), int("timeout").unwrap_or(10));
            if timeout > interval {
                return Err(fail(
                    r,
                    format!(
                        "health_check.timeout {timeout} must not be longer than the interval {interval}"
                    ),
                ));
            }
        }
        check_targets(r, decl)
    }

    fn stages(&self, _props: &IndexMap<String, Value>) -> Vec<Stage> {
        STAGES.to_vec()
    }

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        let p = Props(req.props);
        match req.stage {
            "create" => {
                let port = p
                    .int("port")
                    .ok_or_else(|| ProviderError::other("property 'port' is missing"))?;
                let group_name = name(req.lab, req.address);
                let create = (cx.elbv2.create_target_group())
                    .name(&group_name)
                    .protocol(ProtocolEnum::Tcp)
                    .port(port as i32)
                    .vpc_id(p.req("vpc")?)
                    .target_type(TargetTypeEnum::Ip);
                let b = with_health_check!(create, p).set_tags(Some(creation_tags(req)));
                let arn = retry::create(
                    cx,
                    "CreateTargetGroup",
                    || b.clone().send(),
                    |out| (out.target_groups?.into_iter()).find_map(|g| g.target_group_arn),
                    || async {
                        made_by(cx, &arns(cx, std::slice::from_ref(&group_name)).await?, req).await
                    },
                )
                .await?;
                (req.record_id)(&arn);
            }
            "targets" => change(cx, recorded(req)?, true, &targets(p)).await?,
            _ => return Err(no_stage(req)),
        }
        Ok(Attrs::new())
    }

    async fn update(&self, cx: &Cx, req: &UpdateRequest<'_>) -> Result<Attrs, ProviderError> {
        let (old, new) = (Props(req.old), Props(req.new));
        if old.changed(new, "health_check") {
            let modify = cx.elbv2.modify_target_group().target_group_arn(req.id);
            let b = with_health_check!(modify, new);
            retry::send(cx, "ModifyTargetGroup", || b.clone().send()).await?;
        }
        let (was, now) = (targets(old), targets(new));
        let gone: Vec<_> = was.iter().filter(|t| !now.contains(t)).cloned().collect();
        let added: Vec<_> = now.iter().filter(|t| !was.contains(t)).cloned().collect();
        // Deregister first: a target moving to another port keeps its IP.
        change(cx, req.id, false, &gone).await?;
        change(cx, req.id, true, &added).await?;
        Ok(req.attrs.clone())
    }

    async fn delete(&self, cx: &Cx, req: &DeleteRequest<'_>) -> Result<(), ProviderError> {
        let b = cx.elbv2.delete_target_group().target_group_arn(req.id);
        retry::send(cx, "DeleteTargetGroup", || b.clone().send()).await?;
        Ok(())
    }

    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        of_lab(cx, SCHEMA.kind, &arns(cx, &[]).await?, lab).await
    }
}

//! `security_group`: a security group with its ingress and egress rules.

use super::kind::{Cx, Kind, no_stage, recorded, tagged};
use super::network_interface;
use crate::aws::props::Props;
use crate::aws::validate::fail;
use crate::aws::{retry, tags};
use crate::engine::decl::{DeclError, Declaration, ResourceDecl};
use crate::engine::provider::{
    Attrs, CreateRequest, DeleteRequest, ProviderError, Stage, Tagged, UpdateRequest,
};
use crate::engine::schema::{Field, Schema, Type};
use crate::engine::value::Value;
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, ResourceType, SecurityGroup as Described, UserIdGroupPair,
};
use indexmap::IndexMap;
use serde_json::{Value as Json, json};

/// The `security_group` kind.
pub struct SecurityGroup;

static RULE: &[Field] = &[
    Field::optional(
        "protocol",
        Type::OneOf(&["tcp", "udp", "icmp", "all"]),
        "protocol (default tcp)",
    ),
    Field::optional("port", Type::Int, "a single port"),
    Field::optional("from_port", Type::Int, "first port of a range"),
    Field::optional("to_port", Type::Int, "last port of a range"),
    Field::optional("cidr", Type::Cidr, "peer addresses"),
    Field::optional("source", Type::Ref("security_group"), "peer security group"),
    Field::optional("description", Type::Str, "what the rule is for"),
];

static SCHEMA: Schema = Schema {
    kind: "security_group",
    doc: "A security group; without `egress`, all outbound traffic is allowed.",
    fields: &[
        Field::required("vpc", Type::Ref("vpc"), "the VPC"),
        Field::optional(
            "description",
            Type::Str,
            "description (default: lab and name)",
        ),
        Field::optional("ingress", Type::List(&Type::Object(RULE)), "inbound rules").in_place(),
        Field::optional(
            "egress",
            Type::List(&Type::Object(RULE)),
            "outbound rules (default: all)",
        )
        .in_place(),
    ],
    attrs: &[],
};

/// The rule AWS gives a new group: everything out.
fn allow_all_out() -> Json {
    json!({"protocol": "all", "cidr": "0.0.0.0/0"})
}

/// A rule in one canonical form, so equal rules compare equal.
fn canonical(rule: &Json) -> Json {
    let get = |k| rule.get(k).and_then(Json::as_i64);
    let protocol = rule.get("protocol").and_then(Json::as_str).unwrap_or("tcp");
    let (from, to) = match (protocol, get("port"), get("from_port"), get("to_port")) {
        ("all", ..) => (None, None),
        (_, Some(p), _, _) => (Some(p), Some(p)),
        ("icmp", None, None, None) => (Some(-1), Some(-1)),
        (_, None, from, to) => (from, to.or(from)),
    };
    json!({
        "protocol": protocol,
        "from_port": from,
        "to_port": to,
        "cidr": rule.get("cidr"),
        "source": rule.get("source"),
        "description": rule.get("description"),
    })
}

fn rules(p: Props<'_>, key: &str) -> Option<Vec<Json>> {
    p.0.get(key)
        .filter(|v| !v.is_null())
        .map(|_| p.list(key).iter().map(canonical).collect())
}

fn permission(rule: &Json) -> IpPermission {
    let s = |k| rule.get(k).and_then(Json::as_str).map(String::from);
    let i = |k| rule.get(k).and_then(Json::as_i64).map(|v| v as i32);
    let protocol = match s("protocol").as_deref() {
        Some("all") => "-1".to_string(),
        other => other.unwrap_or("tcp").to_string(),
    };
    let mut b = IpPermission::builder()
        .ip_protocol(protocol)
        .set_from_port(i("from_port"))
        .set_to_port(i("to_port"));
    if let Some(cidr) = s("cidr") {
        b = b.ip_ranges(
            IpRange::builder()
                .cidr_ip(cidr)
                .set_description(s("description"))
                .build(),
        );
    }
    if let Some(group) = s("source") {
        b = b.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(group)
                .set_description(s("description"))
                .build(),
        );
    }
    b.build()
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    In,
    Out,
}

/// Authorizes (`grant`) or revokes `rules` in one direction. A repeat
/// after a lost answer meets the rules as the first attempt left them.
async fn change(
    cx: &Cx,
    id: &str,
    dir: Direction,
    grant: bool,
    rules: &[Json],
) -> Result<(), ProviderError> {
    if rules.is_empty() {
        return Ok(());
    }
    let perms = Some(rules.iter().map(permission).collect::<Vec<IpPermission>>());
    macro_rules! send {
        ($call:ident, $op:literal, $done:literal) => {{
            let b = cx.ec2.$call().group_id(id).set_ip_permissions(perms);
            retry::send_once(cx, $op, &[$done], || b.clone().send())
                .await
                .map(drop)
        }};
    }
    match (grant, dir) {
        (true, Direction::In) => send!(
            authorize_security_group_ingress,
            "AuthorizeSecurityGroupIngress",
            "InvalidPermission.Duplicate"
        ),
        (true, Direction::Out) => send!(
            authorize_security_group_egress,
            "AuthorizeSecurityGroupEgress",
            "InvalidPermission.Duplicate"
        ),
        (false, Direction::In) => send!(
            revoke_security_group_ingress,
            "RevokeSecurityGroupIngress",
            "InvalidPermission.NotFound"
        ),
        (false, Direction::Out) => send!(
            revoke_security_group_egress,
            "RevokeSecurityGroupEgress",
            "InvalidPermission.NotFound"
        ),
    }
}

/// Moves a group's rules in one direction from `old` to `new`.
async fn reconcile(
    cx: &Cx,
    id: &str,
    dir: Direction,
    old: &[Json],
    new: &[Json],
) -> Result<(), ProviderError> {
    let gone: Vec<Json> = old.iter().filter(|r| !new.contains(r)).cloned().collect();
    let added: Vec<Json> = new.iter().filter(|r| !old.contains(r)).cloned().collect();
    change(cx, id, dir, false, &gone).await?;
    change(cx, id, dir, true, &added).await
}

/// The security groups `filters` select.
pub(super) async fn described(
    cx: &Cx,
    filters: Vec<Filter>,
) -> Result<Vec<Described>, ProviderError> {
    let b = cx.ec2.describe_security_groups().set_filters(Some(filters));
    let out = retry::send(cx, "DescribeSecurityGroups", || b.clone().send()).await?;
    Ok(out.security_groups.unwrap_or_default())
}

/// Usable (by interfaces, instances) once made; its rules follow.
static STAGES: &[Stage] = &[
    Stage::first("create", &["id"]),
    Stage::after("rules", &["create"], &["ingress", "egress"]),
];

#[async_trait]
impl Kind for SecurityGroup {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        60
    }

    fn holds(&self) -> &'static [&'static str] {
        &["vpc"]
    }

    fn stages(&self, _props: &IndexMap<String, Value>) -> Vec<Stage> {
        STAGES.to_vec()
    }

    fn check(&self, r: &ResourceDecl, _decl: &Declaration) -> Result<(), DeclError> {
        for field in ["ingress", "egress"] {
            let Some(Value::List(rules)) = r.props.get(field) else {
                continue;
            };
            for (i, rule) in rules.iter().enumerate() {
                let Value::Map(m) = rule else { continue };
                for key in ["port", "from_port", "to_port"] {
                    if let Some(Value::Int(p)) = m.get(key)
                        && !(0..=65535).contains(p)
                    {
                        return Err(fail(
                            r,
                            format!("{field}[{}].{key} = {p} is not a port (0-65535)", i + 1),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        let p = Props(req.props);
        match req.stage {
            "create" => {
                let name = req.address.split_once('.').map_or(req.address, |(_, n)| n);
                let description = p
                    .str("description")
                    .map_or_else(|| format!("labrun lab {} {name}", req.lab), String::from);
                let b = (cx.ec2.create_security_group())
                    .group_name(format!("{}-{name}", req.lab))
                    .description(description)
                    .vpc_id(p.req("vpc")?)
                    .tag_specifications(tags::spec(ResourceType::SecurityGroup, req));
                let id = retry::create(
                    cx,
                    "CreateSecurityGroup",
                    || b.clone().send(),
                    |out| out.group_id,
                    || async {
                        let found = described(cx, tags::made_by(req)).await?;
                        Ok(found.into_iter().find_map(|g| g.group_id))
                    },
                )
                .await?;
                (req.record_id)(&id);
            }
            "rules" => {
                let id = recorded(req)?;
                let ingress = rules(p, "ingress").unwrap_or_default();
                let egress = async {
                    match rules(p, "egress") {
                        Some(egress) => {
                            let all_out = [canonical(&allow_all_out())];
                            reconcile(cx, id, Direction::Out, &all_out, &egress).await
                        }
                        None => Ok(()),
                    }
                };
                futures::try_join!(change(cx, id, Direction::In, true, &ingress), egress)?;
            }
            _ => return Err(no_stage(req)),
        }
        Ok(Attrs::new())
    }

    async fn update(&self, cx: &Cx, req: &UpdateRequest<'_>) -> Result<Attrs, ProviderError> {
        let (old, new) = (Props(req.old), Props(req.new));
        let default_out = || vec![canonical(&allow_all_out())];
        reconcile(
            cx,
            req.id,
            Direction::In,
            &rules(old, "ingress").unwrap_or_default(),
            &rules(new, "ingress").unwrap_or_default(),
        )
        .await?;
        reconcile(
            cx,
            req.id,
            Direction::Out,
            &rules(old, "egress").unwrap_or_else(default_out),
            &rules(new, "egress").unwrap_or_else(default_out),
        )
        .await?;
        Ok(req.attrs.clone())
    }

    async fn delete(&self, cx: &Cx, req: &DeleteRequest<'_>) -> Result<(), ProviderError> {
        let b = cx.ec2.delete_security_group().group_id(req.id);
        retry::send(cx, "DeleteSecurityGroup", || b.clone().send()).await?;
        Ok(())
    }

    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        Ok(described(cx, vec![tags::lab_filter(lab)])
            .await?
            .iter()
            .filter_map(|g| tagged("security_group", g.group_id(), g.tags()))
            .collect())
    }

    async fn holders(&self, cx: &Cx, id: &str) -> Result<Vec<String>, ProviderError> {
        network_interface::holders(cx, tags::filter("group-id", &[id])).await
    }
}

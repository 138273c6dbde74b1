//! `route_table`: a route table with its routes and subnet associations.

use super::kind::{Cx, Kind, no_stage, recorded, tagged};
use crate::aws::props::Props;
use crate::aws::validate::fail;
use crate::aws::{retry, tags};
use crate::engine::decl::{DeclError, Declaration, ResourceDecl};
use crate::engine::provider::{
    Attrs, CreateRequest, DeleteRequest, ErrorClass, ProviderError, Stage, Tagged, UpdateRequest,
};
use crate::engine::schema::{Field, Schema, Type};
use crate::engine::value::Value;
use async_trait::async_trait;
use aws_sdk_ec2::types::{Filter, ResourceType, RouteTable as Described};
use indexmap::IndexMap;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// The `route_table` kind.
pub struct RouteTable;

static ROUTE: &[Field] = &[
    Field::required("cidr", Type::Cidr, "destination block, e.g. 0.0.0.0/0"),
    Field::optional(
        "gateway",
        Type::Ref("internet_gateway"),
        "send to this internet gateway",
    ),
    Field::optional(
        "network_interface",
        Type::Ref("network_interface"),
        "send to this network interface",
    ),
];

static SCHEMA: Schema = Schema {
    kind: "route_table",
    doc: "A route table of a VPC, its routes, and the subnets that use it.",
    fields: &[
        Field::required("vpc", Type::Ref("vpc"), "the VPC"),
        Field::optional(
            "routes",
            Type::List(&Type::Object(ROUTE)),
            "routes besides the VPC's local one",
        )
        .in_place(),
        Field::optional(
            "subnets",
            Type::List(&Type::Ref("subnet")),
            "subnets associated with this table",
        )
        .in_place(),
    ],
    attrs: &[],
};

/// A route's target, as (kind of target, ID).
fn target(route: &Json) -> (&'static str, String) {
    let get = |k| route.get(k).and_then(Json::as_str).map(String::from);
    match (get("gateway"), get("network_interface")) {
        (Some(g), _) => ("gateway", g),
        (None, Some(n)) => ("network_interface", n),
        (None, None) => ("none", String::new()),
    }
}

/// Routes by destination.
fn routes(p: Props<'_>) -> BTreeMap<String, (&'static str, String)> {
    p.list("routes")
        .iter()
        .filter_map(|r| Some((r.get("cidr")?.as_str()?.to_string(), target(r))))
        .collect()
}

async fn put_route(
    cx: &Cx,
    table: &str,
    cidr: &str,
    (kind, id): &(&'static str, String),
    replace: bool,
) -> Result<(), ProviderError> {
    let (gateway, eni) = match *kind {
        "gateway" => (Some(id.clone()), None),
        _ => (None, Some(id.clone())),
    };
    if replace {
        let b = (cx.ec2.replace_route())
            .route_table_id(table)
            .destination_cidr_block(cidr)
            .set_gateway_id(gateway)
            .set_network_interface_id(eni);
        retry::send(cx, "ReplaceRoute", || b.clone().send()).await?;
    } else {
        let b = (cx.ec2.create_route())
            .route_table_id(table)
            .destination_cidr_block(cidr)
            .set_gateway_id(gateway)
            .set_network_interface_id(eni);
        retry::send_once(cx, "CreateRoute", &["RouteAlreadyExists"], || {
            b.clone().send()
        })
        .await?;
    }
    Ok(())
}

/// The route tables `filters` select.
pub(super) async fn described(
    cx: &Cx,
    filters: Vec<Filter>,
) -> Result<Vec<Described>, ProviderError> {
    let b = cx.ec2.describe_route_tables().set_filters(Some(filters));
    let out = retry::send(cx, "DescribeRouteTables", || b.clone().send()).await?;
    Ok(out.route_tables.unwrap_or_default())
}

/// Current associations: subnet ID → association ID (the main one excluded).
async fn associations(cx: &Cx, table: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    let tables = described(cx, vec![tags::filter("route-table-id", &[table])]).await?;
    Ok(tables
        .iter()
        .flat_map(|t| t.associations())
        .filter(|a| !a.main().unwrap_or(false))
        .filter_map(|a| {
            Some((
                a.subnet_id()?.to_string(),
                a.route_table_association_id()?.to_string(),
            ))
        })
        .collect())
}

/// Associates `subnet`; the association's ID, unless an attempt whose
/// answer was lost made it.
async fn associate(cx: &Cx, table: &str, subnet: &str) -> Result<Option<String>, ProviderError> {
    let b = (cx.ec2.associate_route_table())
        .route_table_id(table)
        .subnet_id(subnet);
    let out = retry::send_once(
        cx,
        "AssociateRouteTable",
        &["Resource.AlreadyAssociated"],
        || b.clone().send(),
    )
    .await?;
    Ok(out.and_then(|o| o.association_id))
}

async fn disassociate(cx: &Cx, association: &str) -> Result<(), ProviderError> {
    let b = cx
        .ec2
        .disassociate_route_table()
        .association_id(association);
    match retry::send(cx, "DisassociateRouteTable", || b.clone().send()).await {
        Err(e) if e.class != ErrorClass::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The associations recorded in a table's attributes.
fn recorded_associations(attrs: &Attrs) -> Vec<String> {
    attrs
        .get("associations")
        .and_then(Json::as_object)
        .map(|m| {
            m.values()
                .filter_map(Json::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// Deletes a table whose associations are `known` (or looked up).
async fn delete_table(cx: &Cx, id: &str, known: Option<Vec<String>>) -> Result<(), ProviderError> {
    let listed = known.is_some();
    let associations = match known {
        Some(a) => a,
        None => associations(cx, id).await?.into_values().collect(),
    };
    futures::future::try_join_all(associations.iter().map(|a| disassociate(cx, a))).await?;
    let b = cx.ec2.delete_route_table().route_table_id(id);
    match retry::send(cx, "DeleteRouteTable", || b.clone().send()).await {
        // An association the state did not record: look them all up.
        Err(e) if e.class == ErrorClass::DependencyViolation && listed => {
            Box::pin(delete_table(cx, id, None)).await
        }
        r => r.map(drop),
    }
}

/// Made in its VPC, then routes and subnet associations side by side.
static STAGES: &[Stage] = &[
    Stage::first("create", &["id"]),
    Stage::after("routes", &["create"], &["routes"]),
    Stage::after("subnets", &["create"], &["subnets"]),
];

#[async_trait]
impl Kind for RouteTable {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        40
    }

    fn holds(&self) -> &'static [&'static str] {
        &["vpc"]
    }

    fn check(&self, r: &ResourceDecl, _decl: &Declaration) -> Result<(), DeclError> {
        if let Some(Value::List(routes)) = r.props.get("routes") {
            for (i, route) in routes.iter().enumerate() {
                let Value::Map(m) = route else { continue };
                let targets = ["gateway", "network_interface"]
                    .iter()
                    .filter(|k| m.contains_key(**k))
                    .count();
                if targets != 1 {
                    return Err(fail(
                        r,
                        format!(
                            "routes[{}] needs exactly one of gateway, network_interface",
                            i + 1
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn stages(&self, _props: &IndexMap<String, Value>) -> Vec<Stage> {
        STAGES.to_vec()
    }

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        let p = Props(req.props);
        match req.stage {
            "create" => {
                let b = (cx.ec2.create_route_table())
                    .vpc_id(p.req("vpc")?)
                    .client_token(req.token)
                    .tag_specifications(tags::spec(ResourceType::RouteTable, req));
                let out = retry::send(cx, "CreateRouteTable", || b.clone().send()).await?;
                let id = out
                    .route_table()
                    .and_then(|t| t.route_table_id())
                    .ok_or_else(|| {
                        crate::aws::errors::missing("CreateRouteTable", "route table ID")
                    })?;
                (req.record_id)(id);
                Ok(Attrs::new())
            }
            "routes" => {
                let id = recorded(req)?;
                let routes = routes(p);
                futures::future::try_join_all(
                    routes
                        .iter()
                        .map(|(cidr, target)| put_route(cx, id, cidr, target, false)),
                )
                .await?;
                Ok(Attrs::new())
            }
            "subnets" => {
                let id = recorded(req)?;
                let subnets = p.strs("subnets");
                let made =
                    futures::future::try_join_all(subnets.iter().map(|s| associate(cx, id, s)))
                        .await?;
                let known: serde_json::Map<String, Json> = subnets
                    .into_iter()
                    .zip(made)
                    .filter_map(|(s, a)| Some((s, Json::from(a?))))
                    .collect();
                Ok(Attrs::from([("associations".into(), Json::Object(known))]))
            }
            _ => Err(no_stage(req)),
        }
    }

    async fn update(&self, cx: &Cx, req: &UpdateRequest<'_>) -> Result<Attrs, ProviderError> {
        let (old, new) = (Props(req.old), Props(req.new));
        let (old_routes, new_routes) = (routes(old), routes(new));
        for (cidr, target) in &new_routes {
            match old_routes.get(cidr) {
                None => put_route(cx, req.id, cidr, target, false).await?,
                Some(t) if t != target => put_route(cx, req.id, cidr, target, true).await?,
                Some(_) => {}
            }
        }
        for cidr in old_routes.keys().filter(|c| !new_routes.contains_key(*c)) {
            let b = (cx.ec2.delete_route())
                .route_table_id(req.id)
                .destination_cidr_block(cidr);
            match retry::send(cx, "DeleteRoute", || b.clone().send()).await {
                Err(e) if e.class != ErrorClass::NotFound => return Err(e),
                _ => {}
            }
        }
        let mut attrs = req.attrs.clone();
        if old.changed(new, "subnets") {
            let current = associations(cx, req.id).await?;
            let wanted = new.strs("subnets");
            for subnet in wanted.iter().filter(|s| !current.contains_key(*s)) {
                associate(cx, req.id, subnet).await?;
            }
            for (subnet, association) in &current {
                if !wanted.contains(subnet) {
                    disassociate(cx, association).await?;
                }
            }
            let now = associations(cx, req.id).await?;
            let now = now.into_iter().map(|(s, a)| (s, Json::from(a))).collect();
            attrs.insert("associations".into(), Json::Object(now));
        }
        Ok(attrs)
    }

    async fn delete(&self, cx: &Cx, req: &DeleteRequest<'_>) -> Result<(), ProviderError> {
        // The state recorded every association when it holds one per subnet.
        let known = req.attrs.map(recorded_associations).filter(|a| {
            req.props
                .is_some_and(|p| Props(p).strs("subnets").len() == a.len())
        });
        delete_table(cx, req.id, known).await
    }

    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        Ok(described(cx, vec![tags::lab_filter(lab)])
            .await?
            .iter()
            .filter_map(|t| tagged("route_table", t.route_table_id(), t.tags()))
            .collect())
    }
}

//! `route_table`: a route table with its routes and subnet associations.

use super::kind::{Cx, Kind, tagged};
use crate::aws::errors::{missing, sdk};
use crate::aws::props::Props;
use crate::aws::tags;
use crate::aws::validate::fail;
use crate::engine::decl::{DeclError, Declaration, ResourceDecl};
use crate::engine::provider::{
    Attrs, CreateRequest, ErrorClass, ProviderError, Tagged, UpdateRequest,
};
use crate::engine::schema::{Field, Schema, Type};
use crate::engine::value::Value;
use async_trait::async_trait;
use aws_sdk_ec2::types::ResourceType;
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
    macro_rules! send {
        ($call:ident, $op:literal) => {
            cx.ec2
                .$call()
                .route_table_id(table)
                .destination_cidr_block(cidr)
                .set_gateway_id(gateway)
                .set_network_interface_id(eni)
                .send()
                .await
                .map(drop)
                .map_err(sdk($op))
        };
    }
    if replace {
        send!(replace_route, "ReplaceRoute")
    } else {
        send!(create_route, "CreateRoute")
    }
}

/// Current associations: subnet ID → association ID (the main one excluded).
async fn associations(cx: &Cx, table: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    let out = cx
        .ec2
        .describe_route_tables()
        .route_table_ids(table)
        .send()
        .await
        .map_err(sdk("DescribeRouteTables"))?;
    Ok(out
        .route_tables()
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

async fn associate(cx: &Cx, table: &str, subnet: &str) -> Result<(), ProviderError> {
    cx.ec2
        .associate_route_table()
        .route_table_id(table)
        .subnet_id(subnet)
        .send()
        .await
        .map_err(sdk("AssociateRouteTable"))?;
    Ok(())
}

async fn disassociate(cx: &Cx, association: &str) -> Result<(), ProviderError> {
    match cx
        .ec2
        .disassociate_route_table()
        .association_id(association)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => match sdk("DisassociateRouteTable")(e) {
            e if e.class == ErrorClass::NotFound => Ok(()),
            e => Err(e),
        },
    }
}

#[async_trait]
impl Kind for RouteTable {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        40
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

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        let p = Props(req.props);
        let out = cx
            .ec2
            .create_route_table()
            .vpc_id(p.req("vpc")?)
            .client_token(req.token)
            .tag_specifications(tags::spec(ResourceType::RouteTable, req.lab, req.address))
            .send()
            .await
            .map_err(sdk("CreateRouteTable"))?;
        let id = out
            .route_table()
            .and_then(|t| t.route_table_id())
            .ok_or_else(|| missing("CreateRouteTable", "route table ID"))?;
        (req.record_id)(id);
        for (cidr, target) in routes(p) {
            put_route(cx, id, &cidr, &target, false).await?;
        }
        for subnet in p.strs("subnets") {
            associate(cx, id, &subnet).await?;
        }
        Ok(Attrs::new())
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
            cx.ec2
                .delete_route()
                .route_table_id(req.id)
                .destination_cidr_block(cidr)
                .send()
                .await
                .map_err(sdk("DeleteRoute"))?;
        }
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
        }
        Ok(req.attrs.clone())
    }

    async fn delete(&self, cx: &Cx, id: &str) -> Result<(), ProviderError> {
        for association in associations(cx, id).await?.values() {
            disassociate(cx, association).await?;
        }
        cx.ec2
            .delete_route_table()
            .route_table_id(id)
            .send()
            .await
            .map_err(sdk("DeleteRouteTable"))?;
        Ok(())
    }

    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        let out = cx
            .ec2
            .describe_route_tables()
            .filters(tags::lab_filter(lab))
            .send()
            .await
            .map_err(sdk("DescribeRouteTables"))?;
        Ok(out
            .route_tables()
            .iter()
            .filter_map(|t| tagged("route_table", t.route_table_id(), t.tags()))
            .collect())
    }
}

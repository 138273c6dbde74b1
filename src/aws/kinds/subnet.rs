//! `subnet`: a subnet of a VPC.

use super::kind::{Cx, Kind, no_stage, recorded, tagged};
use super::network_interface;
use crate::aws::props::Props;
use crate::aws::validate::{check_block_size, fail, literal_cidr, referenced_cidr};
use crate::aws::{retry, tags};
use crate::engine::decl::{DeclError, Declaration, ResourceDecl};
use crate::engine::provider::{
    Attrs, CreateRequest, DeleteRequest, ProviderError, Stage, Tagged, UpdateRequest,
};
use crate::engine::schema::{Field, Schema, Type};
use crate::engine::value::Value;
use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, Filter, ResourceType, Subnet as Described};
use indexmap::IndexMap;

/// Subnets of one VPC may not share addresses: the later one declared is at fault.
fn check_no_overlap(r: &ResourceDecl, decl: &Declaration) -> Result<(), DeclError> {
    let (Some(vpc), Some(mine)) = (r.props.get("vpc"), literal_cidr(r.props.get("cidr"))) else {
        return Ok(());
    };
    for other in decl.resources.values() {
        if other.address() == r.address() {
            break;
        }
        if other.kind != "subnet" || other.props.get("vpc") != Some(vpc) {
            continue;
        }
        if let Some(theirs) = literal_cidr(other.props.get("cidr"))
            && (theirs.contains(&mine.network()) || mine.contains(&theirs.network()))
        {
            return Err(fail(
                r,
                format!(
                    "cidr {mine} overlaps {}'s {theirs} (declared at {})",
                    other.address(),
                    other.location
                ),
            ));
        }
    }
    Ok(())
}

/// The `subnet` kind.
pub struct Subnet;

static SCHEMA: Schema = Schema {
    kind: "subnet",
    doc: "A subnet: a CIDR block of its VPC in one availability zone.",
    fields: &[
        Field::required("vpc", Type::Ref("vpc"), "the VPC"),
        Field::required("cidr", Type::Cidr, "the subnet's block, inside the VPC's"),
        Field::optional(
            "az",
            Type::Str,
            "availability zone, e.g. us-east-1a (default: AWS picks)",
        ),
        Field::optional(
            "public",
            Type::Bool,
            "give instances a public IPv4 address at launch (default false)",
        )
        .in_place(),
    ],
    attrs: &["cidr", "az"],
};

async fn set_public(cx: &Cx, id: &str, public: bool) -> Result<(), ProviderError> {
    let b = (cx.ec2.modify_subnet_attribute().subnet_id(id))
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(public).build());
    retry::send(cx, "ModifySubnetAttribute", || b.clone().send()).await?;
    Ok(())
}

/// The subnets `filters` select.
pub(super) async fn described(
    cx: &Cx,
    filters: Vec<Filter>,
) -> Result<Vec<Described>, ProviderError> {
    let b = cx.ec2.describe_subnets().set_filters(Some(filters));
    let out = retry::send(cx, "DescribeSubnets", || b.clone().send()).await?;
    Ok(out.subnets.unwrap_or_default())
}

/// A private subnet is usable once made; a public one once it gives
/// instances public addresses.
static PRIVATE: &[Stage] = &[Stage::first("create", &["id", "cidr", "az"])];
static PUBLIC: &[Stage] = &[
    Stage::first("create", &["cidr", "az"]),
    Stage::after("public", &["create"], &[]).giving(&["id"]),
];

#[async_trait]
impl Kind for Subnet {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        70
    }

    fn holds(&self) -> &'static [&'static str] {
        &["vpc"]
    }

    fn check(&self, r: &ResourceDecl, decl: &Declaration) -> Result<(), DeclError> {
        check_block_size(r)?;
        check_no_overlap(r, decl)?;
        if let (Some((vpc, outer)), Some(inner)) = (
            referenced_cidr(decl, r.props.get("vpc")),
            literal_cidr(r.props.get("cidr")),
        ) && !outer.contains(&inner)
        {
            return Err(fail(
                r,
                format!("cidr {inner} is not inside {vpc}'s {outer}"),
            ));
        }
        Ok(())
    }

    fn stages(&self, props: &IndexMap<String, Value>) -> Vec<Stage> {
        match props.get("public") {
            Some(Value::Bool(true)) => PUBLIC.to_vec(),
            _ => PRIVATE.to_vec(),
        }
    }

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        let p = Props(req.props);
        match req.stage {
            "create" => {
                let b = (cx.ec2.create_subnet())
                    .vpc_id(p.req("vpc")?)
                    .cidr_block(p.req("cidr")?)
                    .set_availability_zone(p.str("az").map(String::from))
                    .tag_specifications(tags::spec(ResourceType::Subnet, req));
                let subnet = retry::create(
                    cx,
                    "CreateSubnet",
                    || b.clone().send(),
                    |out| out.subnet,
                    || async { Ok(described(cx, tags::made_by(req)).await?.into_iter().next()) },
                )
                .await?;
                let id = subnet
                    .subnet_id()
                    .ok_or_else(|| crate::aws::errors::missing("CreateSubnet", "subnet ID"))?;
                (req.record_id)(id);
                Ok(Attrs::from([
                    ("cidr".into(), p.req("cidr")?.into()),
                    (
                        "az".into(),
                        subnet.availability_zone().unwrap_or_default().into(),
                    ),
                ]))
            }
            "public" => {
                set_public(cx, recorded(req)?, true).await?;
                Ok(Attrs::new())
            }
            _ => Err(no_stage(req)),
        }
    }

    async fn update(&self, cx: &Cx, req: &UpdateRequest<'_>) -> Result<Attrs, ProviderError> {
        set_public(cx, req.id, Props(req.new).bool("public").unwrap_or(false)).await?;
        Ok(req.attrs.clone())
    }

    async fn delete(&self, cx: &Cx, req: &DeleteRequest<'_>) -> Result<(), ProviderError> {
        let b = cx.ec2.delete_subnet().subnet_id(req.id);
        retry::send(cx, "DeleteSubnet", || b.clone().send()).await?;
        Ok(())
    }

    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        Ok(described(cx, vec![tags::lab_filter(lab)])
            .await?
            .iter()
            .filter_map(|s| tagged("subnet", s.subnet_id(), s.tags()))
            .collect())
    }

    async fn holders(&self, cx: &Cx, id: &str) -> Result<Vec<String>, ProviderError> {
        network_interface::holders(cx, tags::filter("subnet-id", &[id])).await
    }
}

//! `vpc`: a virtual private cloud.

use super::kind::{Cx, Kind, no_stage, recorded, tagged};
use super::{internet_gateway, network_interface, route_table, security_group, subnet};
use crate::aws::props::Props;
use crate::aws::validate::check_block_size;
use crate::aws::{retry, tags};
use crate::engine::decl::{DeclError, Declaration, ResourceDecl};
use crate::engine::provider::{
    Attrs, CreateRequest, DeleteRequest, ProviderError, Stage, Tagged, UpdateRequest,
};
use crate::engine::schema::{Field, Schema, Type};
use crate::engine::value::Value;
use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, Filter, ResourceType, Vpc as Described};
use indexmap::IndexMap;

/// The `vpc` kind.
pub struct Vpc;

static SCHEMA: Schema = Schema {
    kind: "vpc",
    doc: "A VPC with an IPv4 CIDR block.",
    fields: &[
        Field::required(
            "cidr",
            Type::Cidr,
            "the VPC's IPv4 block, e.g. 10.10.16.0/20",
        ),
        Field::optional(
            "dns_hostnames",
            Type::Bool,
            "give instances DNS host names (default true)",
        )
        .in_place(),
        Field::optional(
            "dns_support",
            Type::Bool,
            "use the Amazon DNS server (default true)",
        )
        .in_place(),
    ],
    attrs: &["cidr"],
};

async fn set_dns(
    cx: &Cx,
    id: &str,
    p: Props<'_>,
    old: Option<Props<'_>>,
) -> Result<(), ProviderError> {
    // Default VPCs made by CreateVpc have DNS support on and host names off.
    let support = p.bool("dns_support").unwrap_or(true);
    let hostnames = p.bool("dns_hostnames").unwrap_or(true);
    let (old_support, old_hostnames) = match old {
        Some(o) => (
            o.bool("dns_support").unwrap_or(true),
            o.bool("dns_hostnames").unwrap_or(true),
        ),
        None => (true, false),
    };
    let modify = cx.ec2.modify_vpc_attribute().vpc_id(id);
    if support != old_support {
        let b = (modify.clone())
            .enable_dns_support(AttributeBooleanValue::builder().value(support).build());
        retry::send(cx, "ModifyVpcAttribute", || b.clone().send()).await?;
    }
    if hostnames != old_hostnames {
        let b =
            modify.enable_dns_hostnames(AttributeBooleanValue::builder().value(hostnames).build());
        retry::send(cx, "ModifyVpcAttribute", || b.clone().send()).await?;
    }
    Ok(())
}

/// The VPCs `filters` select.
pub(super) async fn described(
    cx: &Cx,
    filters: Vec<Filter>,
) -> Result<Vec<Described>, ProviderError> {
    let b = cx.ec2.describe_vpcs().set_filters(Some(filters));
    let out = retry::send(cx, "DescribeVpcs", || b.clone().send()).await?;
    Ok(out.vpcs.unwrap_or_default())
}

static STAGES: &[Stage] = &[
    Stage::first("create", &["id", "cidr"]),
    Stage::after("dns", &["create"], &[]),
];

#[async_trait]
impl Kind for Vpc {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        80
    }

    fn stages(&self, _props: &IndexMap<String, Value>) -> Vec<Stage> {
        STAGES.to_vec()
    }

    fn check(&self, r: &ResourceDecl, _decl: &Declaration) -> Result<(), DeclError> {
        check_block_size(r)
    }

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        let p = Props(req.props);
        match req.stage {
            "create" => {
                let cidr = p.req("cidr")?;
                let b = cx
                    .ec2
                    .create_vpc()
                    .cidr_block(cidr)
                    .tag_specifications(tags::spec(ResourceType::Vpc, req));
                let id = retry::create(
                    cx,
                    "CreateVpc",
                    || b.clone().send(),
                    |out| out.vpc.and_then(|v| v.vpc_id),
                    || async {
                        let found = described(cx, tags::made_by(req)).await?;
                        Ok(found.into_iter().find_map(|v| v.vpc_id))
                    },
                )
                .await?;
                (req.record_id)(&id);
                Ok(Attrs::from([("cidr".into(), cidr.into())]))
            }
            "dns" => {
                set_dns(cx, recorded(req)?, p, None).await?;
                Ok(Attrs::new())
            }
            _ => Err(no_stage(req)),
        }
    }

    async fn update(&self, cx: &Cx, req: &UpdateRequest<'_>) -> Result<Attrs, ProviderError> {
        set_dns(cx, req.id, Props(req.new), Some(Props(req.old))).await?;
        Ok(req.attrs.clone())
    }

    async fn delete(&self, cx: &Cx, req: &DeleteRequest<'_>) -> Result<(), ProviderError> {
        let b = cx.ec2.delete_vpc().vpc_id(req.id);
        retry::send(cx, "DeleteVpc", || b.clone().send()).await?;
        Ok(())
    }

    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        Ok(described(cx, vec![tags::lab_filter(lab)])
            .await?
            .iter()
            .filter_map(|v| tagged("vpc", v.vpc_id(), v.tags()))
            .collect())
    }

    async fn holders(&self, cx: &Cx, id: &str) -> Result<Vec<String>, ProviderError> {
        let (subnets, interfaces, groups, tables, gateways) = futures::try_join!(
            subnet::described(cx, vec![tags::filter("vpc-id", &[id])]),
            network_interface::holders(cx, tags::filter("vpc-id", &[id])),
            security_group::described(cx, vec![tags::filter("vpc-id", &[id])]),
            route_table::described(cx, vec![tags::filter("vpc-id", &[id])]),
            internet_gateway::described(cx, vec![tags::filter("attachment.vpc-id", &[id])]),
        )?;
        let mut held = Vec::new();
        held.extend(
            subnets
                .iter()
                .filter_map(|s| s.subnet_id())
                .map(|s| format!("{s} (subnet)")),
        );
        held.extend(interfaces);
        held.extend(
            groups
                .iter()
                .filter(|g| g.group_name() != Some("default"))
                .filter_map(|g| g.group_id())
                .map(|g| format!("{g} (security group)")),
        );
        held.extend(
            tables
                .iter()
                .filter(|t| !t.associations().iter().any(|a| a.main() == Some(true)))
                .filter_map(|t| t.route_table_id())
                .map(|t| format!("{t} (route table)")),
        );
        held.extend(
            gateways
                .iter()
                .filter_map(|g| g.internet_gateway_id())
                .map(|g| format!("{g} (internet gateway)")),
        );
        Ok(held)
    }
}

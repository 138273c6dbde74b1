//! `vpc`: a virtual private cloud.

use super::kind::{Cx, Kind, tagged};
use crate::aws::errors::{missing, sdk};
use crate::aws::props::Props;
use crate::aws::tags;
use crate::aws::validate::check_block_size;
use crate::engine::decl::{DeclError, Declaration, ResourceDecl};
use crate::engine::provider::{Attrs, CreateRequest, ProviderError, Tagged, UpdateRequest};
use crate::engine::schema::{Field, Schema, Type};
use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};

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
    if support != old_support {
        cx.ec2
            .modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_support(AttributeBooleanValue::builder().value(support).build())
            .send()
            .await
            .map_err(sdk("ModifyVpcAttribute"))?;
    }
    if hostnames != old_hostnames {
        cx.ec2
            .modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_hostnames(AttributeBooleanValue::builder().value(hostnames).build())
            .send()
            .await
            .map_err(sdk("ModifyVpcAttribute"))?;
    }
    Ok(())
}

#[async_trait]
impl Kind for Vpc {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        80
    }

    fn check(&self, r: &ResourceDecl, _decl: &Declaration) -> Result<(), DeclError> {
        check_block_size(r)
    }

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        let p = Props(req.props);
        let cidr = p.req("cidr")?;
        let out = cx
            .ec2
            .create_vpc()
            .cidr_block(cidr)
            .tag_specifications(tags::spec(ResourceType::Vpc, req.lab, req.address))
            .send()
            .await
            .map_err(sdk("CreateVpc"))?;
        let id = out
            .vpc()
            .and_then(|v| v.vpc_id())
            .ok_or_else(|| missing("CreateVpc", "VPC ID"))?;
        (req.record_id)(id);
        set_dns(cx, id, p, None).await?;
        Ok(Attrs::from([("cidr".into(), cidr.into())]))
    }

    async fn update(&self, cx: &Cx, req: &UpdateRequest<'_>) -> Result<Attrs, ProviderError> {
        set_dns(cx, req.id, Props(req.new), Some(Props(req.old))).await?;
        Ok(req.attrs.clone())
    }

    async fn delete(&self, cx: &Cx, id: &str) -> Result<(), ProviderError> {
        cx.ec2
            .delete_vpc()
            .vpc_id(id)
            .send()
            .await
            .map_err(sdk("DeleteVpc"))?;
        Ok(())
    }

    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        let out = cx
            .ec2
            .describe_vpcs()
            .filters(tags::lab_filter(lab))
            .send()
            .await
            .map_err(sdk("DescribeVpcs"))?;
        Ok(out
            .vpcs()
            .iter()
            .filter_map(|v| tagged("vpc", v.vpc_id(), v.tags()))
            .collect())
    }
}

//! `internet_gateway`: an internet gateway attached to a VPC.

use super::kind::{Cx, Kind, no_stage, recorded, tagged};
use crate::aws::props::Props;
use crate::aws::{retry, tags};
use crate::engine::provider::{
    Attrs, CreateRequest, DeleteRequest, ErrorClass, ProviderError, Stage, Tagged,
};
use crate::engine::schema::{Field, Schema, Type};
use crate::engine::value::Value;
use async_trait::async_trait;
use aws_sdk_ec2::types::{Filter, InternetGateway as Described, ResourceType};
use indexmap::IndexMap;

/// The `internet_gateway` kind.
pub struct InternetGateway;

static SCHEMA: Schema = Schema {
    kind: "internet_gateway",
    doc: "An internet gateway, attached to its VPC.",
    fields: &[Field::required(
        "vpc",
        Type::Ref("vpc"),
        "the VPC it is attached to",
    )],
    attrs: &[],
};

/// The internet gateways `filters` select.
pub(super) async fn described(
    cx: &Cx,
    filters: Vec<Filter>,
) -> Result<Vec<Described>, ProviderError> {
    let b = cx
        .ec2
        .describe_internet_gateways()
        .set_filters(Some(filters));
    let out = retry::send(cx, "DescribeInternetGateways", || b.clone().send()).await?;
    Ok(out.internet_gateways.unwrap_or_default())
}

/// Detaches gateway `id` from `vpc`; not attached is fine.
async fn detach(cx: &Cx, id: &str, vpc: &str) -> Result<(), ProviderError> {
    let b = (cx.ec2.detach_internet_gateway())
        .internet_gateway_id(id)
        .vpc_id(vpc);
    match retry::send(cx, "DetachInternetGateway", || b.clone().send()).await {
        Err(e) if e.class != ErrorClass::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Made first (it needs nothing), usable once attached to its VPC.
static STAGES: &[Stage] = &[
    Stage::first("create", &[]),
    Stage::after("attach", &["create"], &["vpc"]).giving(&["id"]),
];

#[async_trait]
impl Kind for InternetGateway {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        50
    }

    fn holds(&self) -> &'static [&'static str] {
        &["vpc"]
    }

    fn stages(&self, _props: &IndexMap<String, Value>) -> Vec<Stage> {
        STAGES.to_vec()
    }

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        match req.stage {
            "create" => {
                let b = (cx.ec2.create_internet_gateway())
                    .tag_specifications(tags::spec(ResourceType::InternetGateway, req));
                let id = retry::create(
                    cx,
                    "CreateInternetGateway",
                    || b.clone().send(),
                    |out| out.internet_gateway.and_then(|g| g.internet_gateway_id),
                    || async {
                        let found = described(cx, tags::made_by(req)).await?;
                        Ok(found.into_iter().find_map(|g| g.internet_gateway_id))
                    },
                )
                .await?;
                (req.record_id)(&id);
            }
            "attach" => {
                let b = (cx.ec2.attach_internet_gateway())
                    .internet_gateway_id(recorded(req)?)
                    .vpc_id(Props(req.props).req("vpc")?);
                retry::send_once(
                    cx,
                    "AttachInternetGateway",
                    &["Resource.AlreadyAssociated"],
                    || b.clone().send(),
                )
                .await?;
            }
            _ => return Err(no_stage(req)),
        }
        Ok(Attrs::new())
    }

    async fn delete(&self, cx: &Cx, req: &DeleteRequest<'_>) -> Result<(), ProviderError> {
        let vpcs = match req.props.and_then(|p| Props(p).str("vpc")) {
            Some(vpc) => vec![vpc.to_string()],
            None => described(cx, vec![tags::filter("internet-gateway-id", &[req.id])])
                .await?
                .iter()
                .flat_map(|g| g.attachments())
                .filter_map(|a| a.vpc_id().map(String::from))
                .collect(),
        };
        for vpc in &vpcs {
            detach(cx, req.id, vpc).await?;
        }
        let b = cx.ec2.delete_internet_gateway().internet_gateway_id(req.id);
        retry::send(cx, "DeleteInternetGateway", || b.clone().send()).await?;
        Ok(())
    }

    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        Ok(described(cx, vec![tags::lab_filter(lab)])
            .await?
            .iter()
            .filter_map(|g| tagged("internet_gateway", g.internet_gateway_id(), g.tags()))
            .collect())
    }
}

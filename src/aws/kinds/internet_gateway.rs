//! `internet_gateway`: an internet gateway attached to a VPC.

use super::kind::{Cx, Kind, tagged};
use crate::aws::errors::{missing, sdk};
use crate::aws::props::Props;
use crate::aws::tags;
use crate::engine::provider::{Attrs, CreateRequest, ErrorClass, ProviderError, Tagged};
use crate::engine::schema::{Field, Schema, Type};
use async_trait::async_trait;
use aws_sdk_ec2::types::ResourceType;

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

#[async_trait]
impl Kind for InternetGateway {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        50
    }

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        let out = cx
            .ec2
            .create_internet_gateway()
            .tag_specifications(tags::spec(
                ResourceType::InternetGateway,
                req.lab,
                req.address,
            ))
            .send()
            .await
            .map_err(sdk("CreateInternetGateway"))?;
        let id = out
            .internet_gateway()
            .and_then(|g| g.internet_gateway_id())
            .ok_or_else(|| missing("CreateInternetGateway", "gateway ID"))?;
        (req.record_id)(id);
        cx.ec2
            .attach_internet_gateway()
            .internet_gateway_id(id)
            .vpc_id(Props(req.props).req("vpc")?)
            .send()
            .await
            .map_err(sdk("AttachInternetGateway"))?;
        Ok(Attrs::new())
    }

    async fn delete(&self, cx: &Cx, id: &str) -> Result<(), ProviderError> {
        let out = cx
            .ec2
            .describe_internet_gateways()
            .internet_gateway_ids(id)
            .send()
            .await
            .map_err(sdk("DescribeInternetGateways"))?;
        for gw in out.internet_gateways() {
            for a in gw.attachments() {
                let detached = cx
                    .ec2
                    .detach_internet_gateway()
                    .internet_gateway_id(id)
                    .set_vpc_id(a.vpc_id().map(String::from))
                    .send()
                    .await
                    .map_err(sdk("DetachInternetGateway"));
                match detached {
                    Err(e) if e.class != ErrorClass::NotFound => return Err(e),
                    _ => {}
                }
            }
        }
        cx.ec2
            .delete_internet_gateway()
            .internet_gateway_id(id)
            .send()
            .await
            .map_err(sdk("DeleteInternetGateway"))?;
        Ok(())
    }

    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        let out = cx
            .ec2
            .describe_internet_gateways()
            .filters(tags::lab_filter(lab))
            .send()
            .await
            .map_err(sdk("DescribeInternetGateways"))?;
        Ok(out
            .internet_gateways()
            .iter()
            .filter_map(|g| tagged("internet_gateway", g.internet_gateway_id(), g.tags()))
            .collect())
    }
}

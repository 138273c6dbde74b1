//! `elastic_ip`: an Elastic IP address and its association.

use super::kind::{Cx, Kind, tagged};
use crate::aws::errors::{missing, sdk};
use crate::aws::props::Props;
use crate::aws::tags;
use crate::cost::{self, Price};
use crate::engine::provider::{
    Attrs, CreateRequest, ErrorClass, ProviderError, Tagged, UpdateRequest,
};
use crate::engine::schema::{Field, Schema, Type};
use crate::engine::value::Value;
use async_trait::async_trait;
use aws_sdk_ec2::types::{DomainType, ResourceType};
use indexmap::IndexMap;

/// The `elastic_ip` kind.
pub struct ElasticIp;

static SCHEMA: Schema = Schema {
    kind: "elastic_ip",
    doc: "An Elastic IP address, associated with a network interface or an instance.",
    fields: &[
        Field::optional(
            "network_interface",
            Type::Ref("network_interface"),
            "associate with this interface",
        )
        .in_place(),
        Field::optional(
            "instance",
            Type::Ref("instance"),
            "associate with this instance",
        )
        .in_place(),
    ],
    attrs: &["public_ip"],
};

async fn associate(cx: &Cx, id: &str, p: Props<'_>) -> Result<(), ProviderError> {
    let (eni, instance) = (p.str("network_interface"), p.str("instance"));
    if eni.is_none() && instance.is_none() {
        return Ok(());
    }
    cx.ec2
        .associate_address()
        .allocation_id(id)
        .set_network_interface_id(eni.map(String::from))
        .set_instance_id(instance.map(String::from))
        .send()
        .await
        .map_err(sdk("AssociateAddress"))?;
    Ok(())
}

async fn disassociate(cx: &Cx, id: &str) -> Result<(), ProviderError> {
    let out = cx
        .ec2
        .describe_addresses()
        .allocation_ids(id)
        .send()
        .await
        .map_err(sdk("DescribeAddresses"))?;
    for association in out.addresses().iter().filter_map(|a| a.association_id()) {
        match cx
            .ec2
            .disassociate_address()
            .association_id(association)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) => match sdk("DisassociateAddress")(e) {
                e if e.class == ErrorClass::NotFound => {}
                e => return Err(e),
            },
        }
    }
    Ok(())
}

#[async_trait]
impl Kind for ElasticIp {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        20
    }

    fn price(&self, _props: &IndexMap<String, Value>) -> Price {
        Price {
            hourly: cost::PUBLIC_IPV4_HOUR,
            note: "public IPv4".into(),
        }
    }

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        let out = cx
            .ec2
            .allocate_address()
            .domain(DomainType::Vpc)
            .tag_specifications(tags::spec(ResourceType::ElasticIp, req.lab, req.address))
            .send()
            .await
            .map_err(sdk("AllocateAddress"))?;
        let id = out
            .allocation_id()
            .ok_or_else(|| missing("AllocateAddress", "allocation ID"))?;
        (req.record_id)(id);
        associate(cx, id, Props(req.props)).await?;
        Ok(Attrs::from([(
            "public_ip".into(),
            out.public_ip().unwrap_or_default().into(),
        )]))
    }

    async fn update(&self, cx: &Cx, req: &UpdateRequest<'_>) -> Result<Attrs, ProviderError> {
        disassociate(cx, req.id).await?;
        associate(cx, req.id, Props(req.new)).await?;
        Ok(req.attrs.clone())
    }

    async fn delete(&self, cx: &Cx, id: &str) -> Result<(), ProviderError> {
        disassociate(cx, id).await?;
        cx.ec2
            .release_address()
            .allocation_id(id)
            .send()
            .await
            .map_err(sdk("ReleaseAddress"))?;
        Ok(())
    }

    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        let out = cx
            .ec2
            .describe_addresses()
            .filters(tags::lab_filter(lab))
            .send()
            .await
            .map_err(sdk("DescribeAddresses"))?;
        Ok(out
            .addresses()
            .iter()
            .filter_map(|a| tagged("elastic_ip", a.allocation_id(), a.tags()))
            .collect())
    }
}

//! `elastic_ip`: an Elastic IP address and its association.

use super::kind::{Cx, Kind, no_stage, recorded, tagged};
use crate::aws::props::Props;
use crate::aws::{retry, tags};
use crate::cost::{self, Price};
use crate::engine::graph::DEPENDS_ON;
use crate::engine::provider::{
    Attrs, CreateRequest, DeleteRequest, ErrorClass, ProviderError, Stage, Tagged, UpdateRequest,
};
use crate::engine::schema::{Field, Schema, Type};
use crate::engine::value::Value;
use async_trait::async_trait;
use aws_sdk_ec2::types::{Address, DomainType, Filter, ResourceType};
use indexmap::IndexMap;
use serde_json::Value as Json;

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

/// Associates the address with its interface or instance; the
/// association's ID, when known.
async fn associate(cx: &Cx, id: &str, p: Props<'_>) -> Result<Attrs, ProviderError> {
    let (eni, instance) = (p.str("network_interface"), p.str("instance"));
    if eni.is_none() && instance.is_none() {
        return Ok(Attrs::new());
    }
    let b = (cx.ec2.associate_address())
        .allocation_id(id)
        .set_network_interface_id(eni.map(String::from))
        .set_instance_id(instance.map(String::from));
    let out = retry::send_once(
        cx,
        "AssociateAddress",
        &["Resource.AlreadyAssociated"],
        || b.clone().send(),
    )
    .await?;
    Ok(out
        .and_then(|o| o.association_id)
        .map(|a| Attrs::from([("association_id".into(), a.into())]))
        .unwrap_or_default())
}

/// The addresses `filters` select.
async fn described(cx: &Cx, filters: Vec<Filter>) -> Result<Vec<Address>, ProviderError> {
    let b = cx.ec2.describe_addresses().set_filters(Some(filters));
    let out = retry::send(cx, "DescribeAddresses", || b.clone().send()).await?;
    Ok(out.addresses.unwrap_or_default())
}

/// Ends one association; gone already is fine.
async fn disassociate_one(cx: &Cx, association: &str) -> Result<(), ProviderError> {
    let b = cx.ec2.disassociate_address().association_id(association);
    match retry::send(cx, "DisassociateAddress", || b.clone().send()).await {
        Err(e) if e.class != ErrorClass::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Ends every association the address has.
async fn disassociate(cx: &Cx, id: &str) -> Result<(), ProviderError> {
    let found = described(cx, vec![tags::filter("allocation-id", &[id])]).await?;
    for association in found.iter().filter_map(|a| a.association_id()) {
        disassociate_one(cx, association).await?;
    }
    Ok(())
}

async fn release(cx: &Cx, id: &str) -> Result<(), ProviderError> {
    let b = cx.ec2.release_address().allocation_id(id);
    retry::send(cx, "ReleaseAddress", || b.clone().send()).await?;
    Ok(())
}

/// Allocated at once (its address is known then), associated once its
/// interface or instance exists.
static STAGES: &[Stage] = &[
    Stage::first("allocate", &["id", "public_ip"]),
    Stage::after(
        "associate",
        &["allocate"],
        &["network_interface", "instance", DEPENDS_ON],
    ),
];

#[async_trait]
impl Kind for ElasticIp {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        20
    }

    fn holds(&self) -> &'static [&'static str] {
        &["network_interface", "internet_gateway"]
    }

    fn price(&self, _props: &IndexMap<String, Value>) -> Price {
        Price {
            hourly: cost::PUBLIC_IPV4_HOUR,
            note: "public IPv4".into(),
        }
    }

    fn stages(&self, props: &IndexMap<String, Value>) -> Vec<Stage> {
        let target = |k| props.get(k).is_some_and(|v| *v != Value::Null);
        match target("network_interface") || target("instance") {
            true => STAGES.to_vec(),
            false => STAGES[..1].to_vec(),
        }
    }

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        match req.stage {
            "allocate" => {
                let b = (cx.ec2.allocate_address())
                    .domain(DomainType::Vpc)
                    .tag_specifications(tags::spec(ResourceType::ElasticIp, req));
                let pair =
                    |a: Option<String>, ip: Option<String>| Some((a?, ip.unwrap_or_default()));
                let (id, ip) = retry::create(
                    cx,
                    "AllocateAddress",
                    || b.clone().send(),
                    |out| pair(out.allocation_id, out.public_ip),
                    || async {
                        let found = described(cx, tags::made_by(req)).await?;
                        Ok(found
                            .into_iter()
                            .find_map(|a| pair(a.allocation_id, a.public_ip)))
                    },
                )
                .await?;
                (req.record_id)(&id);
                Ok(Attrs::from([("public_ip".into(), ip.into())]))
            }
            "associate" => associate(cx, recorded(req)?, Props(req.props)).await,
            _ => Err(no_stage(req)),
        }
    }

    async fn update(&self, cx: &Cx, req: &UpdateRequest<'_>) -> Result<Attrs, ProviderError> {
        disassociate(cx, req.id).await?;
        let mut attrs = req.attrs.clone();
        attrs.shift_remove("association_id");
        attrs.extend(associate(cx, req.id, Props(req.new)).await?);
        Ok(attrs)
    }

    async fn delete(&self, cx: &Cx, req: &DeleteRequest<'_>) -> Result<(), ProviderError> {
        let known = req
            .attrs
            .and_then(|a| a.get("association_id"))
            .and_then(Json::as_str);
        match known {
            Some(association) => disassociate_one(cx, association).await?,
            None => disassociate(cx, req.id).await?,
        }
        match release(cx, req.id).await {
            // Associated otherwise than the state knows: look it up.
            Err(e) if e.class == ErrorClass::DependencyViolation && known.is_some() => {
                disassociate(cx, req.id).await?;
                release(cx, req.id).await
            }
            r => r,
        }
    }

    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        Ok(described(cx, vec![tags::lab_filter(lab)])
            .await?
            .iter()
            .filter_map(|a| tagged("elastic_ip", a.allocation_id(), a.tags()))
            .collect())
    }
}

//! `network_interface`: an elastic network interface with a fixed address.

use super::kind::{Cx, Kind, no_stage, recorded, tagged};
use crate::aws::errors::missing;
use crate::aws::props::Props;
use crate::aws::validate::check_private_ip;
use crate::aws::{retry, tags};
use crate::engine::decl::{DeclError, Declaration, ResourceDecl};
use crate::engine::provider::{
    Attrs, CreateRequest, DeleteRequest, ProviderError, Stage, Tagged, UpdateRequest,
};
use crate::engine::schema::{Field, Schema, Type};
use crate::engine::value::Value;
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, Filter, NetworkInterface as Described, ResourceType,
};
use indexmap::IndexMap;

/// The `network_interface` kind.
pub struct NetworkInterface;

static SCHEMA: Schema = Schema {
    kind: "network_interface",
    doc: "A network interface in a subnet; instances can use it as their primary interface.",
    fields: &[
        Field::required("subnet", Type::Ref("subnet"), "the subnet"),
        Field::optional(
            "private_ip",
            Type::Ip,
            "fixed private address (default: AWS picks)",
        ),
        Field::optional(
            "security_groups",
            Type::List(&Type::Ref("security_group")),
            "security groups",
        )
        .in_place(),
        Field::optional(
            "source_dest_check",
            Type::Bool,
            "drop traffic not addressed to this interface (default true; false for routers)",
        )
        .in_place(),
        Field::optional("description", Type::Str, "description"),
    ],
    attrs: &["private_ip"],
};

async fn set_check(cx: &Cx, id: &str, check: bool) -> Result<(), ProviderError> {
    let b = (cx.ec2.modify_network_interface_attribute())
        .network_interface_id(id)
        .source_dest_check(AttributeBooleanValue::builder().value(check).build());
    retry::send(cx, "ModifyNetworkInterfaceAttribute", || b.clone().send()).await?;
    Ok(())
}

/// The interfaces `filters` select.
async fn described(cx: &Cx, filters: Vec<Filter>) -> Result<Vec<Described>, ProviderError> {
    let b = cx
        .ec2
        .describe_network_interfaces()
        .set_filters(Some(filters));
    let out = retry::send(cx, "DescribeNetworkInterfaces", || b.clone().send()).await?;
    Ok(out.network_interfaces.unwrap_or_default())
}

/// The interfaces `filter` selects, each with what it serves: what keeps a
/// subnet, group or VPC in use.
pub(super) async fn holders(cx: &Cx, filter: Filter) -> Result<Vec<String>, ProviderError> {
    Ok(described(cx, vec![filter])
        .await?
        .iter()
        .filter_map(|n| {
            let id = n.network_interface_id()?;
            let what = match n.attachment().and_then(|a| a.instance_id()) {
                Some(instance) => format!("of instance {instance}"),
                None => n.description().unwrap_or("network interface").to_string(),
            };
            Some(format!("{id} ({what})"))
        })
        .collect())
}

/// Usable once made; a router's source/destination check goes off after.
static PLAIN: &[Stage] = &[Stage::first("create", &["id", "private_ip"])];
static ROUTER: &[Stage] = &[PLAIN[0], Stage::after("check", &["create"], &[])];

#[async_trait]
impl Kind for NetworkInterface {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        30
    }

    fn holds(&self) -> &'static [&'static str] {
        &["subnet", "security_group", "vpc"]
    }

    fn check(&self, r: &ResourceDecl, decl: &Declaration) -> Result<(), DeclError> {
        check_private_ip(r, decl)
    }

    fn stages(&self, props: &IndexMap<String, Value>) -> Vec<Stage> {
        match props.get("source_dest_check") {
            Some(Value::Bool(false)) => ROUTER.to_vec(),
            _ => PLAIN.to_vec(),
        }
    }

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        let p = Props(req.props);
        match req.stage {
            "create" => {
                let groups = p.strs("security_groups");
                let b = (cx.ec2.create_network_interface())
                    .subnet_id(p.req("subnet")?)
                    .set_private_ip_address(p.str("private_ip").map(String::from))
                    .set_groups((!groups.is_empty()).then_some(groups))
                    .set_description(p.str("description").map(String::from))
                    .client_token(req.token)
                    .tag_specifications(tags::spec(ResourceType::NetworkInterface, req));
                let out = retry::send(cx, "CreateNetworkInterface", || b.clone().send()).await?;
                let eni = out
                    .network_interface()
                    .ok_or_else(|| missing("CreateNetworkInterface", "interface"))?;
                let id = eni
                    .network_interface_id()
                    .ok_or_else(|| missing("CreateNetworkInterface", "interface ID"))?;
                (req.record_id)(id);
                Ok(Attrs::from([(
                    "private_ip".into(),
                    eni.private_ip_address().unwrap_or_default().into(),
                )]))
            }
            "check" => {
                set_check(
                    cx,
                    recorded(req)?,
                    p.bool("source_dest_check").unwrap_or(true),
                )
                .await?;
                Ok(Attrs::new())
            }
            _ => Err(no_stage(req)),
        }
    }

    async fn update(&self, cx: &Cx, req: &UpdateRequest<'_>) -> Result<Attrs, ProviderError> {
        let (old, new) = (Props(req.old), Props(req.new));
        if old.changed(new, "source_dest_check") {
            set_check(cx, req.id, new.bool("source_dest_check").unwrap_or(true)).await?;
        }
        if old.changed(new, "security_groups") {
            let b = (cx.ec2.modify_network_interface_attribute())
                .network_interface_id(req.id)
                .set_groups(Some(new.strs("security_groups")));
            retry::send(cx, "ModifyNetworkInterfaceAttribute", || b.clone().send()).await?;
        }
        Ok(req.attrs.clone())
    }

    async fn delete(&self, cx: &Cx, req: &DeleteRequest<'_>) -> Result<(), ProviderError> {
        let b = cx
            .ec2
            .delete_network_interface()
            .network_interface_id(req.id);
        retry::send(cx, "DeleteNetworkInterface", || b.clone().send()).await?;
        Ok(())
    }

    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        Ok(described(cx, vec![tags::lab_filter(lab)])
            .await?
            .iter()
            .filter_map(|n| tagged("network_interface", n.network_interface_id(), n.tag_set()))
            .collect())
    }
}

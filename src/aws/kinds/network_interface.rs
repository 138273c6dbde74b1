//! `network_interface`: an elastic network interface with a fixed address.

use super::kind::{Cx, Kind, tagged};
use crate::aws::errors::{missing, sdk};
use crate::aws::props::Props;
use crate::aws::tags;
use crate::aws::validate::check_private_ip;
use crate::engine::decl::{DeclError, Declaration, ResourceDecl};
use crate::engine::provider::{Attrs, CreateRequest, ProviderError, Tagged, UpdateRequest};
use crate::engine::schema::{Field, Schema, Type};
use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};

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
    cx.ec2
        .modify_network_interface_attribute()
        .network_interface_id(id)
        .source_dest_check(AttributeBooleanValue::builder().value(check).build())
        .send()
        .await
        .map_err(sdk("ModifyNetworkInterfaceAttribute"))?;
    Ok(())
}

#[async_trait]
impl Kind for NetworkInterface {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        30
    }

    fn check(&self, r: &ResourceDecl, decl: &Declaration) -> Result<(), DeclError> {
        check_private_ip(r, decl)
    }

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        let p = Props(req.props);
        let groups = p.strs("security_groups");
        let out = cx
            .ec2
            .create_network_interface()
            .subnet_id(p.req("subnet")?)
            .set_private_ip_address(p.str("private_ip").map(String::from))
            .set_groups((!groups.is_empty()).then_some(groups))
            .set_description(p.str("description").map(String::from))
            .client_token(req.token)
            .tag_specifications(tags::spec(
                ResourceType::NetworkInterface,
                req.lab,
                req.address,
            ))
            .send()
            .await
            .map_err(sdk("CreateNetworkInterface"))?;
        let eni = out
            .network_interface()
            .ok_or_else(|| missing("CreateNetworkInterface", "interface"))?;
        let id = eni
            .network_interface_id()
            .ok_or_else(|| missing("CreateNetworkInterface", "interface ID"))?;
        (req.record_id)(id);
        if !p.bool("source_dest_check").unwrap_or(true) {
            set_check(cx, id, false).await?;
        }
        Ok(Attrs::from([(
            "private_ip".into(),
            eni.private_ip_address().unwrap_or_default().into(),
        )]))
    }

    async fn update(&self, cx: &Cx, req: &UpdateRequest<'_>) -> Result<Attrs, ProviderError> {
        let (old, new) = (Props(req.old), Props(req.new));
        if old.changed(new, "source_dest_check") {
            set_check(cx, req.id, new.bool("source_dest_check").unwrap_or(true)).await?;
        }
        if old.changed(new, "security_groups") {
            cx.ec2
                .modify_network_interface_attribute()
                .network_interface_id(req.id)
                .set_groups(Some(new.strs("security_groups")))
                .send()
                .await
                .map_err(sdk("ModifyNetworkInterfaceAttribute"))?;
        }
        Ok(req.attrs.clone())
    }

    async fn delete(&self, cx: &Cx, id: &str) -> Result<(), ProviderError> {
        cx.ec2
            .delete_network_interface()
            .network_interface_id(id)
            .send()
            .await
            .map_err(sdk("DeleteNetworkInterface"))?;
        Ok(())
    }

    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        let out = cx
            .ec2
            .describe_network_interfaces()
            .filters(tags::lab_filter(lab))
            .send()
            .await
            .map_err(sdk("DescribeNetworkInterfaces"))?;
        Ok(out
            .network_interfaces()
            .iter()
            .filter_map(|n| tagged("network_interface", n.network_interface_id(), n.tag_set()))
            .collect())
    }
}

//! `listener`: a TCP port of a load balancer forwarding to a target group;
//! its port changes in place.

use super::kind::{Cx, Kind};
use super::load_balancer::{creation_tags, listed, load_balancers_of_lab, made_by, of_lab};
use crate::aws::props::Props;
use crate::aws::retry;
use crate::aws::validate::{check_range, fail};
use crate::engine::decl::{DeclError, Declaration, ResourceDecl};
use crate::engine::provider::{
    Attrs, CreateRequest, DeleteRequest, ProviderError, Tagged, UpdateRequest,
};
use crate::engine::schema::{Field, Schema, Type};
use crate::engine::value::Value;
use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, ProtocolEnum};

/// The `listener` kind.
pub struct Listener;

static SCHEMA: Schema = Schema {
    kind: "listener",
    doc: "A TCP listener of a load balancer, forwarding to a target group.",
    fields: &[
        Field::required(
            "load_balancer",
            Type::Ref("load_balancer"),
            "the load balancer",
        ),
        Field::required("port", Type::Int, "the TCP port it listens on").in_place(),
        // Not in place: a replaced target group can only be deleted once
        // no listener forwards to it, so its listener is replaced with it.
        Field::required(
            "target_group",
            Type::Ref("target_group"),
            "where connections go",
        ),
    ],
    attrs: &[],
};

fn forward(p: Props<'_>) -> Result<Action, ProviderError> {
    Ok(Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(p.req("target_group")?)
        .build())
}

/// The listeners of load balancer `arn` (none once it is gone: they went with it).
async fn of_load_balancer(cx: &Cx, arn: &str) -> Result<Vec<String>, ProviderError> {
    let list = cx.elbv2.describe_listeners().load_balancer_arn(arn);
    listed(
        cx,
        "DescribeListeners",
        |marker| list.clone().set_marker(marker).send(),
        |page| page.next_marker.clone(),
        |page| {
            (page.listeners.into_iter().flatten())
                .filter_map(|l| l.listener_arn)
                .collect()
        },
    )
    .await
}

fn port(p: Props<'_>) -> Result<i32, ProviderError> {
    p.int("port")
        .map(|n| n as i32)
        .ok_or_else(|| ProviderError::other("property 'port' is missing"))
}

#[async_trait]
impl Kind for Listener {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        12
    }

    fn holds(&self) -> &'static [&'static str] {
        &["target_group"]
    }

    fn check(&self, r: &ResourceDecl, decl: &Declaration) -> Result<(), DeclError> {
        check_range(r, "port", r.props.get("port"), 1, 65535)?;
        fn key(x: &ResourceDecl) -> (Option<&Value>, Option<&Value>) {
            (x.props.get("load_balancer"), x.props.get("port"))
        }
        let twice = decl.resources.values().find(|other| {
            other.kind == r.kind
                && other.name != r.name
                && matches!(key(r), (Some(Value::Ref(_)), Some(Value::Int(_))))
                && key(other) == key(r)
        });
        match twice {
            Some(other) => Err(fail(
                r,
                format!(
                    "{} listens on the same load balancer and port ({})",
                    other.address(),
                    r.props.get("port").map_or(String::new(), Value::describe)
                ),
            )),
            None => Ok(()),
        }
    }

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        let p = Props(req.props);
        let lb = p.req("load_balancer")?;
        let b = (cx.elbv2.create_listener())
            .load_balancer_arn(lb)
            .protocol(ProtocolEnum::Tcp)
            .port(port(p)?)
            .default_actions(forward(p)?)
            .set_tags(Some(creation_tags(req)));
        let arn = retry::create(
            cx,
            "CreateListener",
            || b.clone().send(),
            |out| out.listeners?.into_iter().find_map(|l| l.listener_arn),
            || async { made_by(cx, &of_load_balancer(cx, lb).await?, req).await },
        )
        .await?;
        (req.record_id)(&arn);
        Ok(Attrs::new())
    }

    async fn update(&self, cx: &Cx, req: &UpdateRequest<'_>) -> Result<Attrs, ProviderError> {
        let b = (cx.elbv2.modify_listener())
            .listener_arn(req.id)
            .port(port(Props(req.new))?);
        retry::send(cx, "ModifyListener", || b.clone().send()).await?;
        Ok(req.attrs.clone())
    }

    async fn delete(&self, cx: &Cx, req: &DeleteRequest<'_>) -> Result<(), ProviderError> {
        let b = cx.elbv2.delete_listener().listener_arn(req.id);
        retry::send(cx, "DeleteListener", || b.clone().send()).await?;
        Ok(())
    }

    /// Listeners are found through the lab's load balancers (tag searches
    /// of some emulators do not list listeners), then by their own tags.
    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        let balancers = load_balancers_of_lab(cx, lab).await?;
        let lists =
            futures::future::try_join_all(balancers.iter().map(|lb| of_load_balancer(cx, &lb.id)))
                .await?;
        let arns: Vec<String> = lists.into_iter().flatten().collect();
        of_lab(cx, SCHEMA.kind, &arns, lab).await
    }
}

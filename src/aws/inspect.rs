//! Read-only looks at the account: which labs have anything tagged in a
//! region, what a lab found only by its tags costs, and one instance as
//! EC2 describes it with its console output (where Ignition errors show),
//! one network interface.

use super::Aws;
use super::{retry, tags};
use crate::engine::provider::{Provider, ProviderError, Tagged};
use crate::engine::value::Value;
use indexmap::IndexMap;
use serde_json::{Value as Json, json};

/// What is tagged with a lab in one region, and what it costs.
#[derive(Debug, Clone)]
pub struct Census {
    pub resources: Vec<Tagged>,
    /// Dollars per hour of what was found.
    pub hourly: f64,
    /// Unix seconds of the oldest instance's launch, if any.
    pub since: Option<u64>,
}

/// The region the AWS configuration names (profile, `AWS_REGION`), if any.
pub async fn configured_region() -> Option<String> {
    aws_config::default_provider::region::DefaultRegionChain::builder()
        .build()
        .region()
        .await
        .map(|r| r.to_string())
}

impl Aws {
    /// Names of the labs that have EC2 resources tagged `labrun:lab` here.
    pub async fn tagged_labs(&self) -> Result<Vec<String>, ProviderError> {
        let cx = self.clients()?;
        let list = cx
            .ec2
            .describe_tags()
            .filters(tags::filter("key", &[tags::LAB]));
        let pages = retry::pages(
            cx,
            "DescribeTags",
            |token| list.clone().set_next_token(token).send(),
            |page| page.next_token.clone(),
        )
        .await?;
        let names: std::collections::BTreeSet<String> = pages
            .iter()
            .flat_map(|p| p.tags())
            .filter_map(|t| t.value().map(String::from))
            .collect();
        Ok(names.into_iter().collect())
    }

    /// Everything tagged with `lab`, priced: instances by their type and
    /// public address, every other kind by its price with no properties.
    pub async fn census(&self, lab: &str) -> Result<Census, ProviderError> {
        let note = |m: &str| tracing::warn!(target: "labrun::aws", "{m}");
        let resources = self.tagged(lab, &note).await?;
        let cx = self.clients()?;
        let b = cx.ec2.describe_instances().filters(tags::lab_filter(lab));
        let out = retry::send(cx, "DescribeInstances", || b.clone().send()).await?;
        let mut instances = IndexMap::new();
        for i in out.reservations().iter().flat_map(|r| r.instances()) {
            if let Some(id) = i.instance_id() {
                instances.insert(id.to_string(), i.clone());
            }
        }
        let mut hourly = 0.0;
        let mut since: Option<u64> = None;
        for t in &resources {
            let mut props = IndexMap::new();
            if let Some(i) = instances.get(&t.id) {
                let ty = i.instance_type().map(|t| t.as_str().to_string());
                props.insert("type".to_string(), Value::Str(ty.unwrap_or_default()));
                props.insert(
                    "public_ip".to_string(),
                    Value::Bool(i.public_ip_address().is_some()),
                );
                if let Some(at) = i.launch_time() {
                    let at = at.secs().max(0) as u64;
                    since = Some(since.map_or(at, |s| s.min(at)));
                }
            }
            hourly += super::price(&t.kind, &props).hourly;
        }
        Ok(Census {
            resources,
            hourly,
            since,
        })
    }

    /// One instance as EC2 describes it.
    pub async fn describe_instance(&self, id: &str) -> Result<Json, ProviderError> {
        let cx = self.clients()?;
        let b = cx.ec2.describe_instances().instance_ids(id);
        let out = retry::send(cx, "DescribeInstances", || b.clone().send()).await?;
        let i = (out.reservations().iter().flat_map(|r| r.instances()))
            .next()
            .ok_or_else(|| ProviderError::other(format!("instance {id} not found")))?;
        let s = |v: Option<&str>| v.map_or(Json::Null, Json::from);
        Ok(json!({
            "id": s(i.instance_id()),
            "state": s(i.state().and_then(|s| s.name()).map(|n| n.as_str())),
            "state_reason": s(i.state_reason().and_then(|r| r.message())),
            "type": s(i.instance_type().map(|t| t.as_str())),
            "image_id": s(i.image_id()),
            "private_ip": s(i.private_ip_address()),
            "public_ip": s(i.public_ip_address()),
            "subnet_id": s(i.subnet_id()),
            "vpc_id": s(i.vpc_id()),
            "az": s(i.placement().and_then(|p| p.availability_zone())),
            "launch_time": s(i.launch_time().map(|t| t.to_string()).as_deref()),
            "security_groups": i.security_groups().iter().filter_map(|g| g.group_id()).collect::<Vec<_>>(),
            "tags": i.tags().iter().filter_map(|t| Some((t.key()?.to_string(), Json::from(t.value()?)))).collect::<serde_json::Map<_, _>>(),
        }))
    }

    /// One network interface as EC2 describes it (whether its
    /// source/destination check is off, for a NAT instance's).
    pub async fn describe_network_interface(&self, id: &str) -> Result<Json, ProviderError> {
        let cx = self.clients()?;
        let b = cx
            .ec2
            .describe_network_interfaces()
            .network_interface_ids(id);
        let out = retry::send(cx, "DescribeNetworkInterfaces", || b.clone().send()).await?;
        let n = (out.network_interfaces().first())
            .ok_or_else(|| ProviderError::other(format!("network interface {id} not found")))?;
        let s = |v: Option<&str>| v.map_or(Json::Null, Json::from);
        Ok(json!({
            "id": s(n.network_interface_id()),
            "status": s(n.status().map(|s| s.as_str())),
            "private_ip": s(n.private_ip_address()),
            "subnet_id": s(n.subnet_id()),
            "source_dest_check": n.source_dest_check(),
        }))
    }

    /// The instance's serial console output, decoded (empty if none yet).
    pub async fn console_output(&self, id: &str) -> Result<String, ProviderError> {
        use base64::Engine;
        let cx = self.clients()?;
        let b = cx.ec2.get_console_output().instance_id(id).latest(true);
        let out = retry::send(cx, "GetConsoleOutput", || b.clone().send()).await?;
        let text = out.output().unwrap_or_default();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| ProviderError::other(format!("console output of {id}: {e}")))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

//! `instance`: an EC2 instance, its image looked up at apply time if asked.

use super::kind::{Cx, Kind, tagged};
use crate::aws::errors::{missing, sdk};
use crate::aws::instance_types;
use crate::aws::props::Props;
use crate::aws::tags;
use crate::aws::user_data;
use crate::aws::validate::{check_private_ip, fail};
use crate::cost::{self, Price};
use crate::engine::decl::{DeclError, Declaration, ResourceDecl};
use crate::engine::provider::{
    Attrs, CreateRequest, ErrorClass, ProviderError, Tagged, UpdateRequest,
};
use crate::engine::schema::{Field, Schema, Type};
use crate::engine::value::Value;
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    AttributeValue, BlockDeviceMapping, EbsBlockDevice, HttpTokensState,
    InstanceMarketOptionsRequest, InstanceMetadataEndpointState, InstanceMetadataOptionsRequest,
    InstanceNetworkInterfaceSpecification, InstanceStateName, MarketType, ResourceType,
    ShutdownBehavior, VolumeType,
};
use base64::Engine;
use indexmap::IndexMap;
use serde_json::Value as Json;
use std::time::{Duration, Instant};

/// The `instance` kind.
pub struct Instance;

static SCHEMA: Schema = Schema {
    kind: "instance",
    doc: "An EC2 instance.",
    fields: &[
        Field::required(
            "image",
            Type::Any,
            "an AMI ID, or { name = pattern, owner = account, architecture = x86_64|arm64, description = pattern } looked up at apply time",
        ),
        Field::required("type", Type::Str, "instance type, e.g. t4g.nano").in_place(),
        Field::optional(
            "subnet",
            Type::Ref("subnet"),
            "subnet (unless network_interface is given)",
        ),
        Field::optional(
            "network_interface",
            Type::Ref("network_interface"),
            "primary network interface",
        ),
        Field::optional(
            "private_ip",
            Type::Ip,
            "fixed private address (with subnet)",
        ),
        Field::optional(
            "security_groups",
            Type::List(&Type::Ref("security_group")),
            "security groups (with subnet)",
        ),
        Field::optional(
            "public_ip",
            Type::Bool,
            "give it a public IPv4 address (with subnet)",
        ),
        Field::optional(
            "user_data",
            Type::Str,
            "user data, e.g. an Ignition config; an Ignition config over 16 KB is served from S3",
        ),
        Field::optional(
            "user_data_expires",
            Type::Int,
            "seconds the presigned URL of user data served from S3 stays valid (default 900)",
        ),
        Field::optional(
            "user_data_s3",
            Type::Object(&[
                Field::required("object", Type::Ref("s3_object"), "the full Ignition config"),
                Field::required("sha512", Type::Str, "its sha512, hex"),
                Field::required("version", Type::Str, "its Ignition version"),
                Field::required("expires", Type::Int, "seconds the URL stays valid"),
            ]),
            "set by labrun for user data over 16 KB: the instance gets an Ignition stub fetching the object",
        ),
        Field::optional("key_pair", Type::StrOrRef, "EC2 key pair name"),
        Field::optional(
            "root_volume_size",
            Type::Int,
            "root volume size in GB (gp3)",
        ),
        Field::optional(
            "shutdown_behavior",
            Type::OneOf(&["stop", "terminate"]),
            "what `shutdown` inside the instance does (default stop)",
        )
        .in_place(),
        Field::optional("spot", Type::Bool, "run as a one-time spot instance"),
    ],
    attrs: &["private_ip", "public_ip", "image_id", "az"],
};

/// A literal instance type must exist, and fit the architecture an image
/// lookup asks for.
fn check_type(r: &ResourceDecl) -> Result<(), DeclError> {
    let Some(Value::Str(name)) = r.props.get("type") else {
        return Ok(());
    };
    let ty = instance_types::find(name).ok_or_else(|| fail(r, instance_types::unknown(name)))?;
    if let Some(Value::Map(lookup)) = r.props.get("image")
        && let Some(Value::Str(arch)) = lookup.get("architecture")
        && !ty.archs.contains(&arch.as_str())
    {
        return Err(fail(
            r,
            format!(
                "type {name} runs {} but its image lookup asks for {arch}",
                ty.archs.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Where an instance goes: a subnet or an interface, and an image labrun can find.
fn check_placement(r: &ResourceDecl) -> Result<(), DeclError> {
    let has = |k| r.props.get(k).is_some_and(|v| *v != Value::Null);
    match (has("subnet"), has("network_interface")) {
        (false, false) => return Err(fail(r, "needs a subnet or a network_interface".into())),
        (true, true) => {
            return Err(fail(
                r,
                "takes a subnet or a network_interface, not both".into(),
            ));
        }
        (false, true) if has("security_groups") || has("private_ip") || has("public_ip") => {
            return Err(fail(
                r,
                "with a network_interface, set security_groups and private_ip on the interface"
                    .into(),
            ));
        }
        _ => {}
    }
    match r.props.get("image") {
        Some(Value::Str(id)) if id.starts_with("ami-") => Ok(()),
        Some(Value::Map(m))
            if m.contains_key("name")
                && m.keys().all(|k| {
                    ["name", "owner", "architecture", "description"].contains(&k.as_str())
                }) =>
        {
            Ok(())
        }
        Some(Value::Ref(_)) => Ok(()),
        Some(other) => Err(fail(
            r,
            format!(
                "image must be an AMI ID (ami-...) or {{ name = ..., owner = ..., architecture = ... }}, got {}",
                other.describe()
            ),
        )),
        None => Ok(()),
    }
}

/// The image ID: as given, or the newest image matching a lookup.
/// An image to launch: its ID, root device and the root snapshot's size.
struct Image {
    id: String,
    root_device: Option<String>,
    root_gb: Option<i32>,
}

async fn image(cx: &Cx, image: &Json) -> Result<Image, ProviderError> {
    let mut req = cx.ec2.describe_images();
    match image {
        Json::String(id) => req = req.image_ids(id),
        Json::Object(q) => {
            let s = |k| q.get(k).and_then(Json::as_str);
            if let Some(owner) = s("owner") {
                req = req.owners(owner);
            }
            req = req
                .filters(tags::filter("name", &[s("name").unwrap_or("*")]))
                .filters(tags::filter("state", &["available"]));
            if let Some(arch) = s("architecture") {
                req = req.filters(tags::filter("architecture", &[arch]));
            }
            if let Some(description) = s("description") {
                req = req.filters(tags::filter("description", &[description]));
            }
        }
        other => {
            return Err(ProviderError::other(format!(
                "image must be an ID or a lookup table, got {other}"
            )));
        }
    }
    let out = req.send().await.map_err(sdk("DescribeImages"))?;
    let newest = out
        .images()
        .iter()
        .max_by_key(|i| i.creation_date().unwrap_or_default().to_string())
        .ok_or_else(|| ProviderError::other(format!("no image matches {image}")))?;
    let id = newest
        .image_id()
        .ok_or_else(|| missing("DescribeImages", "image ID"))?;
    let root_device = newest.root_device_name().map(String::from);
    let root_gb = (newest.block_device_mappings().iter())
        .find(|m| m.device_name() == root_device.as_deref())
        .and_then(|m| m.ebs()?.volume_size());
    Ok(Image {
        id: id.to_string(),
        root_device,
        root_gb,
    })
}

/// Polls until the instance is in one of `wanted` states.
async fn wait_for(
    cx: &Cx,
    id: &str,
    wanted: &[InstanceStateName],
    timeout: Duration,
) -> Result<Attrs, ProviderError> {
    let start = Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        let out = cx
            .ec2
            .describe_instances()
            .instance_ids(id)
            .send()
            .await
            .map_err(sdk("DescribeInstances"))?;
        let Some(i) = out.reservations().iter().flat_map(|r| r.instances()).next() else {
            return Err(ProviderError {
                class: ErrorClass::NotFound,
                message: format!("instance {id} not found"),
            });
        };
        let state = i.state().and_then(|s| s.name()).cloned();
        if state.as_ref().is_some_and(|s| wanted.contains(s)) {
            let s = |v: Option<&str>| Json::from(v.unwrap_or_default());
            return Ok(Attrs::from([
                ("private_ip".into(), s(i.private_ip_address())),
                ("public_ip".into(), s(i.public_ip_address())),
                ("image_id".into(), s(i.image_id())),
                (
                    "az".into(),
                    s(i.placement().and_then(|p| p.availability_zone())),
                ),
            ]));
        }
        if state == Some(InstanceStateName::Terminated) {
            return Err(ProviderError::other(format!(
                "instance {id} terminated ({:?})",
                i.state_reason()
            )));
        }
        if start.elapsed() > timeout {
            return Err(ProviderError::other(format!(
                "instance {id} still {state:?} after {timeout:?}"
            )));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

const TEN_MINUTES: Duration = Duration::from_secs(600);

#[async_trait]
impl Kind for Instance {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        10
    }

    fn check(&self, r: &ResourceDecl, decl: &Declaration) -> Result<(), DeclError> {
        check_private_ip(r, decl)?;
        check_placement(r)?;
        check_type(r)
    }

    fn price(&self, props: &IndexMap<String, Value>) -> Price {
        let ty = props.get("type").and_then(Value::as_str).unwrap_or("?");
        let gb = match props.get("root_volume_size") {
            Some(Value::Int(i)) => *i,
            _ => cost::DEFAULT_ROOT_GB,
        };
        let disk = gb as f64 * cost::GP3_GB_MONTH / cost::HOURS_PER_MONTH;
        let public = matches!(props.get("public_ip"), Some(Value::Bool(true)));
        let ip = if public { cost::PUBLIC_IPV4_HOUR } else { 0.0 };
        let spot = matches!(props.get("spot"), Some(Value::Bool(true)));
        let extras = format!(
            " + {gb} GB gp3{}",
            if public { " + public IPv4" } else { "" }
        );
        match (
            cost::instance_hourly(ty),
            spot.then(|| cost::spot_hourly(ty)).flatten(),
        ) {
            (Some(_), Some(p)) => Price {
                hourly: p + disk + ip,
                note: format!(
                    "{ty} spot (estimate of {}; on-demand at most){extras}",
                    cost::SPOT_AS_OF
                ),
            },
            (Some(p), None) => Price {
                hourly: p + disk + ip,
                note: format!(
                    "{ty}{}{extras}",
                    if spot {
                        " spot (no estimate: on-demand shown)"
                    } else {
                        ""
                    }
                ),
            },
            (None, _) => Price {
                hourly: disk + ip,
                note: format!("{ty}: not in the price table; {gb} GB gp3 only"),
            },
        }
    }

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        let p = Props(req.props);
        let image = image(cx, req.props.get("image").unwrap_or(&Json::Null)).await?;
        let groups = p.strs("security_groups");
        let groups = (!groups.is_empty()).then_some(groups);
        let mut run = cx
            .ec2
            .run_instances()
            .image_id(&image.id)
            .instance_type(p.req("type")?.into())
            .min_count(1)
            .max_count(1)
            .client_token(req.token)
            .set_key_name(p.str("key_pair").map(String::from))
            .tag_specifications(tags::spec(ResourceType::Instance, req.lab, req.address))
            .tag_specifications(tags::spec(ResourceType::Volume, req.lab, req.address));
        if let Some(eni) = p.str("network_interface") {
            run = run.network_interfaces(
                InstanceNetworkInterfaceSpecification::builder()
                    .device_index(0)
                    .network_interface_id(eni)
                    .build(),
            );
        } else if let Some(public) = p.bool("public_ip") {
            run = run.network_interfaces(
                InstanceNetworkInterfaceSpecification::builder()
                    .device_index(0)
                    .set_subnet_id(p.str("subnet").map(String::from))
                    .set_groups(groups)
                    .set_private_ip_address(p.str("private_ip").map(String::from))
                    .associate_public_ip_address(public)
                    .build(),
            );
        } else {
            run = run
                .set_subnet_id(p.str("subnet").map(String::from))
                .set_security_group_ids(groups)
                .set_private_ip_address(p.str("private_ip").map(String::from));
        }
        let user_data = match req.props.get("user_data_s3") {
            Some(spec) => Some(user_data::stub(cx, spec).await?),
            None => p.str("user_data").map(String::from),
        };
        if let Some(data) = user_data {
            run = run.user_data(base64::engine::general_purpose::STANDARD.encode(data));
        }
        // The root volume: encrypted with the account's default key (no
        // extra cost), gp3, gone with the instance.
        let device = image.root_device.unwrap_or_else(|| "/dev/xvda".into());
        let size = p
            .int("root_volume_size")
            .map(|s| s as i32)
            .or(image.root_gb);
        run = run.block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name(device)
                .ebs(
                    EbsBlockDevice::builder()
                        .set_volume_size(Some(size.unwrap_or(cost::DEFAULT_ROOT_GB as i32)))
                        .volume_type(VolumeType::Gp3)
                        .encrypted(true)
                        .delete_on_termination(true)
                        .build(),
                )
                .build(),
        );
        // IMDSv2 only, one hop: containers on the node cannot reach it, and
        // nothing on a lab node needs an instance role.
        run = run.metadata_options(
            InstanceMetadataOptionsRequest::builder()
                .http_tokens(HttpTokensState::Required)
                .http_put_response_hop_limit(1)
                .http_endpoint(InstanceMetadataEndpointState::Enabled)
                .build(),
        );
        if let Some(b) = p.str("shutdown_behavior") {
            run = run.instance_initiated_shutdown_behavior(ShutdownBehavior::from(b));
        }
        if p.bool("spot").unwrap_or(false) {
            run = run.instance_market_options(
                InstanceMarketOptionsRequest::builder()
                    .market_type(MarketType::Spot)
                    .build(),
            );
        }
        let out = run.send().await.map_err(sdk("RunInstances"))?;
        let id = out
            .instances()
            .first()
            .and_then(|i| i.instance_id())
            .ok_or_else(|| missing("RunInstances", "instance ID"))?;
        (req.record_id)(id);
        wait_for(cx, id, &[InstanceStateName::Running], TEN_MINUTES).await
    }

    async fn update(&self, cx: &Cx, req: &UpdateRequest<'_>) -> Result<Attrs, ProviderError> {
        let (old, new) = (Props(req.old), Props(req.new));
        if old.changed(new, "type") {
            cx.ec2
                .stop_instances()
                .instance_ids(req.id)
                .send()
                .await
                .map_err(sdk("StopInstances"))?;
            wait_for(cx, req.id, &[InstanceStateName::Stopped], TEN_MINUTES).await?;
            cx.ec2
                .modify_instance_attribute()
                .instance_id(req.id)
                .instance_type(AttributeValue::builder().value(new.req("type")?).build())
                .send()
                .await
                .map_err(sdk("ModifyInstanceAttribute"))?;
            cx.ec2
                .start_instances()
                .instance_ids(req.id)
                .send()
                .await
                .map_err(sdk("StartInstances"))?;
        }
        if old.changed(new, "shutdown_behavior") {
            cx.ec2
                .modify_instance_attribute()
                .instance_id(req.id)
                .instance_initiated_shutdown_behavior(
                    AttributeValue::builder()
                        .value(new.str("shutdown_behavior").unwrap_or("stop"))
                        .build(),
                )
                .send()
                .await
                .map_err(sdk("ModifyInstanceAttribute"))?;
        }
        wait_for(cx, req.id, &[InstanceStateName::Running], TEN_MINUTES).await
    }

    async fn delete(&self, cx: &Cx, id: &str) -> Result<(), ProviderError> {
        cx.ec2
            .terminate_instances()
            .instance_ids(id)
            .send()
            .await
            .map_err(sdk("TerminateInstances"))?;
        wait_for(cx, id, &[InstanceStateName::Terminated], TEN_MINUTES)
            .await
            .map(|_| ())
    }

    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        let out = cx
            .ec2
            .describe_instances()
            .filters(tags::lab_filter(lab))
            .filters(tags::filter(
                "instance-state-name",
                &["pending", "running", "shutting-down", "stopping", "stopped"],
            ))
            .send()
            .await
            .map_err(sdk("DescribeInstances"))?;
        Ok(out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter_map(|i| tagged("instance", i.instance_id(), i.tags()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_an_instance_with_its_disk_and_public_address() {
        let mut props = IndexMap::from([("type".to_string(), Value::Str("t4g.nano".into()))]);
        let p = Instance.price(&props);
        assert!(
            (p.hourly - (0.0042 + 10.0 * 0.08 / 730.0)).abs() < 1e-9,
            "{p:?}"
        );
        props.insert("public_ip".into(), Value::Bool(true));
        assert!((Instance.price(&props).hourly - p.hourly - 0.005).abs() < 1e-9);
        props.insert("spot".into(), Value::Bool(true));
        let spot = Instance.price(&props);
        assert!((spot.hourly - (0.0013 + 10.0 * 0.08 / 730.0 + 0.005)).abs() < 1e-9);
        assert!(spot.note.contains("spot (estimate"), "{}", spot.note);
    }
}

//! `instance`: an EC2 instance, its image looked up at apply time if asked.

use super::kind::{Cx, Kind, no_stage, recorded, tagged};
use crate::aws::errors::missing;
use crate::aws::instance_types;
use crate::aws::props::Props;
use crate::aws::user_data;
use crate::aws::validate::{check_private_ip, fail};
use crate::aws::{retry, tags};
use crate::cost::{self, Price};
use crate::engine::decl::{DeclError, Declaration, ResourceDecl};
use crate::engine::provider::{
    Attrs, CreateRequest, DeleteRequest, ErrorClass, ProviderError, Stage, Tagged, UpdateRequest,
};
use crate::engine::schema::{Field, Schema, Type};
use crate::engine::value::Value;
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    AttributeValue, BlockDeviceMapping, EbsBlockDevice, Filter, HttpTokensState,
    Instance as Described, InstanceMarketOptionsRequest, InstanceMetadataEndpointState,
    InstanceMetadataOptionsRequest, InstanceNetworkInterfaceSpecification, InstanceStateName,
    MarketType, ResourceType, ShutdownBehavior, VolumeType,
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

/// The image ID and its root device: as given, or the newest image
/// matching a lookup.
async fn image(cx: &Cx, image: &Json) -> Result<Attrs, ProviderError> {
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
    let out = retry::send(cx, "DescribeImages", || req.clone().send()).await?;
    let newest = out
        .images()
        .iter()
        .max_by_key(|i| i.creation_date().unwrap_or_default().to_string())
        .ok_or_else(|| ProviderError::other(format!("no image matches {image}")))?;
    let id = newest
        .image_id()
        .ok_or_else(|| missing("DescribeImages", "image ID"))?;
    let root_device = newest.root_device_name().unwrap_or("/dev/xvda");
    let root_gb = (newest.block_device_mappings().iter())
        .find(|m| m.device_name() == Some(root_device))
        .and_then(|m| m.ebs()?.volume_size());
    let mut attrs = Attrs::from([
        ("image_id".into(), id.into()),
        (ROOT_DEVICE.into(), root_device.into()),
    ]);
    if let Some(gb) = root_gb {
        attrs.insert(ROOT_GB.into(), gb.into());
    }
    Ok(attrs)
}

/// Attributes the image stage passes on to the launch: the image's root
/// device and its snapshot's size, which the root volume gets unless told.
const ROOT_DEVICE: &str = "root_device";
const ROOT_GB: &str = "root_gb";

/// The instances `filters` select.
async fn described(cx: &Cx, filters: Vec<Filter>) -> Result<Vec<Described>, ProviderError> {
    let b = cx.ec2.describe_instances().set_filters(Some(filters));
    let out = retry::send(cx, "DescribeInstances", || b.clone().send()).await?;
    Ok(out
        .reservations
        .unwrap_or_default()
        .into_iter()
        .flat_map(|r| r.instances.unwrap_or_default())
        .collect())
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
        let found = described(cx, vec![tags::filter("instance-id", &[id])]).await?;
        let Some(i) = found.first() else {
            return Err(ProviderError::new(
                ErrorClass::NotFound,
                format!("instance {id} not found"),
            ));
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

/// Its image looked up at once, launched once the rest of what it uses is
/// known, usable (its ID, its addresses) once running.
static STAGES: &[Stage] = &[
    Stage {
        name: "image",
        needs: &["image"],
        gives: &["image_id"],
        after: &[],
    },
    Stage::after("launch", &["image"], LAUNCH_NEEDS),
    Stage::after("running", &["launch"], &[]).giving(&["id", "private_ip", "public_ip", "az"]),
];

/// Every field but `image`: the launch uses them all.
const LAUNCH_NEEDS: &[&str] = &[
    "type",
    "subnet",
    "network_interface",
    "private_ip",
    "security_groups",
    "public_ip",
    "user_data",
    "user_data_expires",
    "user_data_s3",
    "key_pair",
    "root_volume_size",
    "shutdown_behavior",
    "spot",
];

/// Launches the instance from the image the image stage found.
async fn launch(cx: &Cx, req: &CreateRequest<'_>) -> Result<(), ProviderError> {
    let p = Props(req.props);
    let attr = |k| req.attrs.get(k).and_then(Json::as_str);
    let image_id = attr("image_id").ok_or_else(|| missing("DescribeImages", "image ID"))?;
    let groups = p.strs("security_groups");
    let groups = (!groups.is_empty()).then_some(groups);
    let mut run = cx
        .ec2
        .run_instances()
        .image_id(image_id)
        .instance_type(p.req("type")?.into())
        .min_count(1)
        .max_count(1)
        .client_token(req.token)
        .set_key_name(p.str("key_pair").map(String::from))
        .tag_specifications(tags::spec(ResourceType::Instance, req))
        .tag_specifications(tags::spec(ResourceType::Volume, req));
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
    // The root volume: encrypted with the account's default key (no extra
    // cost), gp3, gone with the instance.
    let root_gb = (p.int("root_volume_size"))
        .or_else(|| req.attrs.get(ROOT_GB).and_then(Json::as_i64))
        .unwrap_or(cost::DEFAULT_ROOT_GB);
    run = run.block_device_mappings(
        BlockDeviceMapping::builder()
            .device_name(attr(ROOT_DEVICE).unwrap_or("/dev/xvda"))
            .ebs(
                EbsBlockDevice::builder()
                    .volume_size(root_gb as i32)
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
    let out = retry::send(cx, "RunInstances", || run.clone().send()).await?;
    let id = out
        .instances()
        .first()
        .and_then(|i| i.instance_id())
        .ok_or_else(|| missing("RunInstances", "instance ID"))?;
    (req.record_id)(id);
    Ok(())
}

#[async_trait]
impl Kind for Instance {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        10
    }

    fn holds(&self) -> &'static [&'static str] {
        &["network_interface", "subnet", "security_group", "vpc"]
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

    fn stages(&self, _props: &IndexMap<String, Value>) -> Vec<Stage> {
        STAGES.to_vec()
    }

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        match req.stage {
            "image" => image(cx, req.props.get("image").unwrap_or(&Json::Null)).await,
            "launch" => launch(cx, req).await.map(|()| Attrs::new()),
            "running" => {
                wait_for(
                    cx,
                    recorded(req)?,
                    &[InstanceStateName::Running],
                    TEN_MINUTES,
                )
                .await
            }
            _ => Err(no_stage(req)),
        }
    }

    async fn update(&self, cx: &Cx, req: &UpdateRequest<'_>) -> Result<Attrs, ProviderError> {
        let (old, new) = (Props(req.old), Props(req.new));
        let modify = cx.ec2.modify_instance_attribute().instance_id(req.id);
        if old.changed(new, "type") {
            let stop = cx.ec2.stop_instances().instance_ids(req.id);
            retry::send(cx, "StopInstances", || stop.clone().send()).await?;
            wait_for(cx, req.id, &[InstanceStateName::Stopped], TEN_MINUTES).await?;
            let b = (modify.clone())
                .instance_type(AttributeValue::builder().value(new.req("type")?).build());
            retry::send(cx, "ModifyInstanceAttribute", || b.clone().send()).await?;
            let start = cx.ec2.start_instances().instance_ids(req.id);
            retry::send(cx, "StartInstances", || start.clone().send()).await?;
        }
        if old.changed(new, "shutdown_behavior") {
            let b = modify.instance_initiated_shutdown_behavior(
                AttributeValue::builder()
                    .value(new.str("shutdown_behavior").unwrap_or("stop"))
                    .build(),
            );
            retry::send(cx, "ModifyInstanceAttribute", || b.clone().send()).await?;
        }
        wait_for(cx, req.id, &[InstanceStateName::Running], TEN_MINUTES).await
    }

    async fn delete(&self, cx: &Cx, req: &DeleteRequest<'_>) -> Result<(), ProviderError> {
        let b = cx.ec2.terminate_instances().instance_ids(req.id);
        let out = retry::send(cx, "TerminateInstances", || b.clone().send()).await?;
        let now = out
            .terminating_instances()
            .iter()
            .filter_map(|i| i.current_state().and_then(|s| s.name()))
            .next();
        if now == Some(&InstanceStateName::Terminated) {
            return Ok(());
        }
        wait_for(cx, req.id, &[InstanceStateName::Terminated], TEN_MINUTES)
            .await
            .map(|_| ())
    }

    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        let live = ["pending", "running", "shutting-down", "stopping", "stopped"];
        let filters = vec![
            tags::lab_filter(lab),
            tags::filter("instance-state-name", &live),
        ];
        Ok(described(cx, filters)
            .await?
            .iter()
            .filter_map(|i| tagged("instance", i.instance_id(), i.tags()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_launch_waits_for_every_field_but_the_image() {
        let mut fields: Vec<&str> = SCHEMA.fields.iter().map(|f| f.name).collect();
        fields.retain(|f| *f != "image");
        assert_eq!(LAUNCH_NEEDS, fields.as_slice());
    }

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

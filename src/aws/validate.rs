//! Cross-resource checks before anything reaches AWS: addresses inside
//! their blocks, one target per route, an instance placed somewhere.

use crate::engine::decl::{DeclError, Declaration, ResourceDecl};
use crate::engine::value::Value;
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

fn fail(r: &ResourceDecl, message: String) -> DeclError {
    DeclError {
        location: r.location.clone(),
        message: format!("{}: {message}", r.address()),
    }
}

/// The literal CIDR of the resource a field refers to, if declared literally.
fn referenced_cidr(decl: &Declaration, v: Option<&Value>) -> Option<(String, Ipv4Net)> {
    let Some(Value::Ref(r)) = v else { return None };
    let target = decl.resources.get(&r.address)?;
    let net = target.props.get("cidr")?.as_str()?.parse().ok()?;
    Some((r.address.clone(), net))
}

fn literal_cidr(v: Option<&Value>) -> Option<Ipv4Net> {
    v?.as_str()?.parse().ok()
}

/// Runs every check on a declaration.
pub fn validate(decl: &Declaration) -> Result<(), DeclError> {
    for r in decl.resources.values() {
        match r.kind.as_str() {
            "subnet" => {
                if let (Some((vpc, outer)), Some(inner)) = (
                    referenced_cidr(decl, r.props.get("vpc")),
                    literal_cidr(r.props.get("cidr")),
                ) && !outer.contains(&inner)
                {
                    return Err(fail(
                        r,
                        format!("cidr {inner} is not inside {vpc}'s {outer}"),
                    ));
                }
            }
            "network_interface" | "instance" => {
                let subnet = referenced_cidr(decl, r.props.get("subnet"));
                let ip = r
                    .props
                    .get("private_ip")
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse::<Ipv4Addr>().ok());
                if let (Some((name, net)), Some(ip)) = (&subnet, ip) {
                    if !net.contains(&ip) {
                        return Err(fail(
                            r,
                            format!("private_ip {ip} is not inside {name}'s {net}"),
                        ));
                    }
                    if ip.octets()[3] < 4 || ip == net.broadcast() {
                        return Err(fail(
                            r,
                            format!("private_ip {ip} is reserved by AWS in {net}"),
                        ));
                    }
                }
                if r.kind == "instance" {
                    check_instance(r)?;
                }
            }
            "route_table" => {
                if let Some(Value::List(routes)) = r.props.get("routes") {
                    for (i, route) in routes.iter().enumerate() {
                        let Value::Map(m) = route else { continue };
                        let targets = ["gateway", "network_interface"]
                            .iter()
                            .filter(|k| m.contains_key(**k))
                            .count();
                        if targets != 1 {
                            return Err(fail(
                                r,
                                format!(
                                    "routes[{}] needs exactly one of gateway, network_interface",
                                    i + 1
                                ),
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_instance(r: &ResourceDecl) -> Result<(), DeclError> {
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

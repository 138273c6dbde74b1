//! Helpers the kinds' cross-resource checks share
//! ([`Kind::check`](super::kinds::Kind::check)): errors at a resource's
//! declaration, CIDRs and addresses inside their blocks.

use crate::engine::decl::{DeclError, Declaration, ResourceDecl};
use crate::engine::value::Value;
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

/// An error of resource `r`, at its declaration.
pub fn fail(r: &ResourceDecl, message: String) -> DeclError {
    DeclError {
        location: r.location.clone(),
        message: format!("{}: {message}", r.address()),
    }
}

/// The literal CIDR of the resource a field refers to, if declared literally.
pub fn referenced_cidr(decl: &Declaration, v: Option<&Value>) -> Option<(String, Ipv4Net)> {
    let Some(Value::Ref(r)) = v else { return None };
    let target = decl.resources.get(&r.address)?;
    let net = target.props.get("cidr")?.as_str()?.parse().ok()?;
    Some((r.address.clone(), net))
}

/// A literal CIDR property.
pub fn literal_cidr(v: Option<&Value>) -> Option<Ipv4Net> {
    v?.as_str()?.parse().ok()
}

/// A literal `private_ip` must sit inside the referenced subnet and not be
/// one of the addresses AWS reserves there.
pub fn check_private_ip(r: &ResourceDecl, decl: &Declaration) -> Result<(), DeclError> {
    check_ip_in_subnet(r, decl, r.props.get("subnet"), r.props.get("private_ip"))
}

/// A literal address `ip` must sit inside the subnet `subnet` refers to and
/// not be one of the addresses AWS reserves there.
pub fn check_ip_in_subnet(
    r: &ResourceDecl,
    decl: &Declaration,
    subnet: Option<&Value>,
    ip: Option<&Value>,
) -> Result<(), DeclError> {
    let subnet = referenced_cidr(decl, subnet);
    let ip = ip
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
    Ok(())
}

/// A VPC's or subnet's literal block must be /16 to /28, as AWS allows.
pub fn check_block_size(r: &ResourceDecl) -> Result<(), DeclError> {
    match literal_cidr(r.props.get("cidr")) {
        Some(net) if !(16..=28).contains(&net.prefix_len()) => Err(fail(
            r,
            format!(
                "cidr {net}: a {} block must be /16 to /28",
                r.kind.replace('_', " ")
            ),
        )),
        _ => Ok(()),
    }
}

/// A literal integer `field` (at `path` for messages) must lie in `lo..=hi`.
pub fn check_range(
    r: &ResourceDecl,
    path: &str,
    v: Option<&Value>,
    lo: i64,
    hi: i64,
) -> Result<(), DeclError> {
    match v {
        Some(Value::Int(n)) if !(lo..=hi).contains(n) => Err(fail(
            r,
            format!("{path} must be from {lo} to {hi}, got {n}"),
        )),
        _ => Ok(()),
    }
}

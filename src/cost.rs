//! What a lab costs: an embedded price table (us-east-1, on-demand) and the
//! price of each declared resource per hour.

use crate::engine::value::Value;
use indexmap::IndexMap;

/// When the prices below were taken from the AWS price list.
pub const PRICES_AS_OF: &str = "2025-07-01";

/// Hours in an average month, as AWS bills.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// On-demand Linux price per hour in us-east-1.
const INSTANCES: &[(&str, f64)] = &[
    ("t4g.nano", 0.0042),
    ("t4g.micro", 0.0084),
    ("t4g.small", 0.0168),
    ("t4g.medium", 0.0336),
    ("t3a.nano", 0.0047),
    ("t3a.micro", 0.0094),
    ("t3a.small", 0.0188),
    ("t3a.medium", 0.0376),
    ("t3.nano", 0.0052),
    ("t3.micro", 0.0104),
    ("t3.small", 0.0208),
    ("t3.medium", 0.0416),
    ("t2.nano", 0.0058),
    ("t2.micro", 0.0116),
    ("t2.small", 0.023),
    ("t2.medium", 0.0464),
];

/// A public IPv4 address (Elastic IP or auto-assigned), per hour.
pub const PUBLIC_IPV4_HOUR: f64 = 0.005;
/// A Network Load Balancer, per hour (before capacity units).
pub const NLB_HOUR: f64 = 0.0225;
/// EBS gp3 storage, per GB-month.
pub const GP3_GB_MONTH: f64 = 0.08;
/// Root volume size assumed when a script does not set one (Fedora CoreOS images use 10 GB).
pub const DEFAULT_ROOT_GB: i64 = 10;

/// The price of one resource, with what it is made of.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Price {
    /// Dollars per hour.
    pub hourly: f64,
    /// What the figure covers, or why it is unknown.
    pub note: String,
}

/// The on-demand hourly price of an instance type, if in the table.
pub fn instance_hourly(instance_type: &str) -> Option<f64> {
    INSTANCES
        .iter()
        .find(|(t, _)| *t == instance_type)
        .map(|(_, p)| *p)
}

/// Prices a declared resource from its properties.
pub fn price(kind: &str, props: &IndexMap<String, Value>) -> Price {
    let int = |k: &str| match props.get(k) {
        Some(Value::Int(i)) => Some(*i),
        _ => None,
    };
    match kind {
        "instance" => {
            let ty = props.get("type").and_then(Value::as_str).unwrap_or("?");
            let gb = int("root_volume_size").unwrap_or(DEFAULT_ROOT_GB);
            let disk = gb as f64 * GP3_GB_MONTH / HOURS_PER_MONTH;
            let public = matches!(props.get("public_ip"), Some(Value::Bool(true)));
            let ip = if public { PUBLIC_IPV4_HOUR } else { 0.0 };
            let spot = matches!(props.get("spot"), Some(Value::Bool(true)));
            match instance_hourly(ty) {
                Some(p) => Price {
                    hourly: p + disk + ip,
                    note: format!(
                        "{ty}{} + {gb} GB gp3{}",
                        if spot { " (spot: at most this)" } else { "" },
                        if public { " + public IPv4" } else { "" }
                    ),
                },
                None => Price {
                    hourly: disk + ip,
                    note: format!("{ty}: not in the price table; {gb} GB gp3 only"),
                },
            }
        }
        "elastic_ip" => Price {
            hourly: PUBLIC_IPV4_HOUR,
            note: "public IPv4".into(),
        },
        "load_balancer" => Price {
            hourly: NLB_HOUR,
            note: "NLB, before capacity units".into(),
        },
        "s3_bucket" | "s3_object" => Price {
            hourly: 0.0,
            note: "S3, a few KB: negligible".into(),
        },
        _ => Price {
            hourly: 0.0,
            note: String::new(),
        },
    }
}

/// Formats dollars with enough digits for cents-an-hour labs.
pub fn dollars(x: f64) -> String {
    if x == 0.0 {
        "-".into()
    } else if x < 1.0 {
        format!("${x:.4}")
    } else {
        format!("${x:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_an_instance_with_its_disk() {
        let props = IndexMap::from([("type".to_string(), Value::Str("t4g.nano".into()))]);
        let p = price("instance", &props);
        assert!(
            (p.hourly - (0.0042 + 10.0 * 0.08 / 730.0)).abs() < 1e-9,
            "{p:?}"
        );
        assert_eq!(price("elastic_ip", &IndexMap::new()).hourly, 0.005);
        assert_eq!(dollars(0.00530), "$0.0053");
    }
}

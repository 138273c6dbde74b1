//! What a lab costs: an embedded price table (us-east-1, on-demand); each
//! kind prices its own resources from it (`Kind::price`).

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

/// When the spot estimates below were taken.
pub const SPOT_AS_OF: &str = "2025-07-01";

/// Spot estimates per hour in us-east-1: about 30% of on-demand, the
/// discount these burstable types usually trade at there. The market price
/// moves hourly and is capped at on-demand; a plan shows these as
/// estimates.
const SPOT: &[(&str, f64)] = &[
    ("t4g.nano", 0.0013),
    ("t4g.micro", 0.0025),
    ("t4g.small", 0.0050),
    ("t4g.medium", 0.0101),
    ("t3a.nano", 0.0014),
    ("t3a.micro", 0.0028),
    ("t3a.small", 0.0056),
    ("t3a.medium", 0.0113),
    ("t3.nano", 0.0016),
    ("t3.micro", 0.0031),
    ("t3.small", 0.0062),
    ("t3.medium", 0.0125),
];

/// A public IPv4 address (Elastic IP or auto-assigned), per hour.
pub const PUBLIC_IPV4_HOUR: f64 = 0.005;
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

/// The estimated spot price per hour of an instance type, if in the table.
pub fn spot_hourly(instance_type: &str) -> Option<f64> {
    SPOT.iter()
        .find(|(t, _)| *t == instance_type)
        .map(|(_, p)| *p)
}

/// Formats dollars with enough digits for cents-an-hour labs.
pub fn dollars(x: f64) -> String {
    if x == 0.0 {
        "-".into()
    } else if x < 0.1 {
        format!("${x:.4}")
    } else {
        format!("${x:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_keep_cents_an_hour_readable() {
        assert_eq!(dollars(0.00530), "$0.0053");
        assert_eq!(dollars(12.5), "$12.50");
        assert_eq!(dollars(0.8), "$0.80", "not $0.8000 a month");
        assert_eq!(instance_hourly("t4g.nano"), Some(0.0042));
        for (ty, spot) in SPOT {
            let on_demand = instance_hourly(ty).unwrap();
            assert!(*spot < on_demand, "{ty}: spot above on-demand");
        }
    }
}

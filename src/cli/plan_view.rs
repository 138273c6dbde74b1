//! Printing a plan: one line per resource with its action and price, then totals.

use crate::cost::{self, HOURS_PER_MONTH};
use crate::engine::plan::{Action, Plan};
use crate::engine::value::Value;
use crate::session::Session;
use serde_json::json;
use sha2::Digest;

/// Short description of a resource's properties; long strings (user data)
/// show as a size and digest, never their contents.
pub fn describe_props(props: &indexmap::IndexMap<String, Value>) -> String {
    props
        .iter()
        .map(|(k, v)| {
            let shown = match v {
                Value::Str(s) if s.len() > 48 || s.contains('\n') => {
                    let digest = hex::encode(&sha2::Sha256::digest(s.as_bytes())[..4]);
                    format!("<{} bytes, sha256 {digest}…>", s.len())
                }
                other => {
                    let d = other.describe();
                    if d.chars().count() > 60 {
                        format!("{}…", d.chars().take(59).collect::<String>())
                    } else {
                        d
                    }
                }
            };
            format!("{k}={shown}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Prints the plan as a table.
pub fn print(session: &Session, plan: &Plan) {
    let decl = &session.decl;
    let (prices, total) = session.prices();
    let price_of = |a: &str| {
        prices
            .iter()
            .find(|(x, _)| x == a)
            .map(|(_, p)| p.hourly)
            .unwrap_or(0.0)
    };
    let width = plan
        .changes
        .iter()
        .map(|c| c.address.len())
        .max()
        .unwrap_or(10)
        .max(8);
    println!(
        "Lab {} in {} ({}):",
        decl.lab,
        decl.region,
        session.found.describe()
    );
    println!();
    println!(
        "    {:<width$}  {:>9}  {:>8}  action",
        "resource", "$/hour", "$/month"
    );
    for c in &plan.changes {
        let (sym, what) = match &c.action {
            Action::Create => (
                "+",
                match decl.resources.get(&c.address) {
                    Some(r) => format!("create  {}", describe_props(&r.props)),
                    None => "create".into(),
                },
            ),
            Action::Update { fields } => ("~", format!("update in place: {}", fields.join(", "))),
            Action::Replace { because } => (
                "-/+",
                format!("replace: {} forces a new resource", because.join(", ")),
            ),
            Action::Delete => ("-", "delete".into()),
            Action::Keep => (" ", "unchanged".into()),
        };
        let h = price_of(&c.address);
        println!(
            "{sym:>3} {:<width$}  {:>9}  {:>8}  {what}",
            c.address,
            cost::dollars(h),
            cost::dollars(h * HOURS_PER_MONTH)
        );
    }
    let (create, update, replace, delete) = plan.counts();
    let spot = if prices
        .iter()
        .any(|(_, p)| p.note.contains(" spot (estimate"))
    {
        format!("; spot: estimates of {}", cost::SPOT_AS_OF)
    } else {
        String::new()
    };
    println!();
    println!(
        "    {:<width$}  {:>9}  {:>8}  once applied (us-east-1 on-demand prices of {}{spot})",
        "total",
        cost::dollars(total),
        cost::dollars(total * HOURS_PER_MONTH),
        cost::PRICES_AS_OF
    );
    println!();
    println!(
        "Plan: {create} to create, {update} to update, {replace} to replace, {delete} to delete."
    );
}

/// The plan as JSON.
pub fn json(session: &Session, plan: &Plan) -> serde_json::Value {
    let decl = &session.decl;
    let (prices, total) = session.prices();
    let changes: Vec<_> = plan
        .changes
        .iter()
        .map(|c| {
            let price = prices
                .iter()
                .find(|(a, _)| *a == c.address)
                .map(|(_, p)| p.clone())
                .unwrap_or_default();
            let mut v = serde_json::to_value(c).unwrap_or_default();
            v["hourly"] = json!(price.hourly);
            v["monthly"] = json!(price.hourly * HOURS_PER_MONTH);
            v["price_note"] = json!(price.note);
            v
        })
        .collect();
    let (create, update, replace, delete) = plan.counts();
    json!({
        "lab": decl.lab,
        "region": decl.region,
        "script": session.origin,
        "changes": changes,
        "counts": {"create": create, "update": update, "replace": replace, "delete": delete},
        "hourly": total,
        "monthly": total * HOURS_PER_MONTH,
        "prices_as_of": cost::PRICES_AS_OF,
    })
}

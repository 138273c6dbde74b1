//! Printing a plan: one line per resource with its action and price, then totals.

use crate::aws;
use crate::cost::{self, HOURS_PER_MONTH};
use crate::engine::plan::{Action, Change, FieldChange, Plan};
use crate::engine::state::State;
use crate::engine::value::Value;
use crate::session::Session;
use indexmap::IndexMap;
use serde_json::{Value as Json, json};
use sha2::Digest;

/// The longest value a plan line shows whole.
const SHOWN: usize = 60;

/// A long or multi-line text as its size and digest, never its contents
/// (user data may hold keys); None for a short one-line text.
fn digest_of(s: &str) -> Option<String> {
    (s.len() > 48 || s.contains('\n')).then(|| {
        let digest = hex::encode(&sha2::Sha256::digest(s.as_bytes())[..4]);
        format!("<{} bytes, sha256 {digest}…>", s.len())
    })
}

/// Short description of a resource's properties; long strings (user data)
/// show as a size and digest, never their contents.
pub fn describe_props(props: &indexmap::IndexMap<String, Value>) -> String {
    props
        .iter()
        .map(|(k, v)| {
            let shown = match v {
                Value::Str(s) => digest_of(s),
                _ => None,
            };
            let shown = shown.unwrap_or_else(|| fit(v.describe(), Some(SHOWN)).0);
            format!("{k}={shown}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A value in a plan line: short, and never the contents of a long text
/// (user data may hold keys).
fn short(v: Option<&Json>) -> String {
    match v {
        None => "(known after apply)".into(),
        Some(Json::String(s)) if let Some(d) = digest_of(s) => d,
        Some(other) => fit(other.to_string(), Some(SHOWN)).0,
    }
}

/// `field old → new, ...` of a change.
fn describe_diff(diff: &[FieldChange]) -> String {
    diff.iter()
        .map(|d| {
            format!(
                "{} {} → {}",
                d.field,
                short(Some(&d.before)),
                short(d.after.as_ref())
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The price of each resource the state records, from its recorded properties.
fn prices_before(state: &State) -> IndexMap<String, f64> {
    (state.resources.iter())
        .map(|(address, r)| {
            let props: IndexMap<String, Value> = match &r.props {
                Json::Object(m) => m
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
                _ => IndexMap::new(),
            };
            (address.clone(), aws::price(&r.kind, &props).hourly)
        })
        .collect()
}

/// `+$0.0042/h`, or nothing when the price does not change.
fn delta(before: f64, after: f64) -> String {
    let d = after - before;
    if d.abs() < 0.00005 {
        String::new()
    } else {
        format!(
            "  ({}{}/h)",
            if d > 0.0 { "+" } else { "-" },
            cost::dollars(d.abs())
        )
    }
}

/// The terminal's width when standard output is one: `COLUMNS` if set,
/// else what the terminal says. None when the output goes elsewhere (a
/// file or a pipe gets whole lines).
fn terminal_width() -> Option<usize> {
    let term = console::Term::stdout();
    if !term.is_term() {
        return None;
    }
    let columns = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
    columns
        .or_else(|| term.size_checked().map(|(_, cols)| usize::from(cols)))
        .filter(|&c| c > 0)
}

/// `text` cut to `room` characters with an ellipsis, if it is longer.
fn fit(text: String, room: Option<usize>) -> (String, bool) {
    match room {
        Some(room) if text.chars().count() > room => {
            let cut: String = text.chars().take(room.saturating_sub(1)).collect();
            (format!("{cut}…"), true)
        }
        _ => (text, false),
    }
}

/// Prints the plan as a table: what changes (every row with `all`), each
/// changed field old → new, the price of each row and of the lab, before
/// and after.
pub fn print(session: &Session, plan: &Plan, state: &State, all: bool) {
    let decl = &session.decl;
    let (prices, total) = session.prices();
    let before = prices_before(state);
    let total_before: f64 = before.values().sum();
    let price_of = |a: &str| {
        (prices.iter())
            .find(|(x, _)| x == a)
            .map(|(_, p)| p.hourly)
            .unwrap_or(0.0)
    };
    let shown: Vec<&Change> = (plan.changes.iter())
        .filter(|c| all || c.action != Action::Keep)
        .collect();
    let width = shown
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
    if let Some(e) = decl.expires {
        println!(
            "Time to live {}: its instances power off and terminate at {}.",
            humantime::format_duration(std::time::Duration::from_secs(e.ttl)),
            humantime::format_rfc3339_seconds(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(e.at)
            )
        );
    }
    println!();
    if shown.is_empty() {
        println!(
            "No changes. The lab costs {}/hour ({}/month).",
            cost::dollars(total),
            cost::dollars(total * HOURS_PER_MONTH)
        );
        return;
    }
    println!(
        "    {:<width$}  {:>9}  {:>8}  action",
        "resource", "$/hour", "$/month"
    );
    // On a terminal, each row's last column is cut to the width left.
    let room = terminal_width().map(|w| w.saturating_sub(width + 28).max(20));
    let mut cut = false;
    for c in shown {
        let was = before.get(&c.address).copied().unwrap_or(0.0);
        let (sym, what, h) = match &c.action {
            Action::Create => (
                "+",
                match decl.resources.get(&c.address) {
                    Some(r) => format!("create  {}", describe_props(&r.props)),
                    None => "create".into(),
                },
                price_of(&c.address),
            ),
            Action::Update { .. } => (
                "~",
                format!(
                    "update in place: {}{}",
                    describe_diff(&c.diff),
                    delta(was, price_of(&c.address))
                ),
                price_of(&c.address),
            ),
            Action::Replace { because } => (
                "-/+",
                if c.diff.is_empty() {
                    format!("replace: {}", because.join(", "))
                } else {
                    format!(
                        "replace: {} forces a new resource{}",
                        describe_diff(&c.diff),
                        delta(was, price_of(&c.address))
                    )
                },
                price_of(&c.address),
            ),
            Action::Delete => ("-", format!("delete{}", delta(was, 0.0)), was),
            Action::Keep => (" ", "unchanged".into(), price_of(&c.address)),
        };
        let (what, was_cut) = fit(what, room);
        cut |= was_cut;
        println!(
            "{sym:>3} {:<width$}  {:>9}  {:>8}  {what}",
            c.address,
            cost::dollars(h),
            cost::dollars(h * HOURS_PER_MONTH)
        );
        if let Some(p) = prices.iter().find(|(a, _)| *a == c.address)
            && p.1.note.contains("not in the price table")
        {
            let (note, _) = fit(p.1.note.clone(), room.map(|r| r + 21));
            println!("    {:<width$}  {note}", "");
        }
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
    let now = if state.resources.is_empty() {
        String::new()
    } else {
        format!(", now {}/hour", cost::dollars(total_before))
    };
    let (tail, _) = fit(
        format!(
            "once applied{now} (us-east-1 on-demand prices of {}{spot})",
            cost::PRICES_AS_OF
        ),
        room,
    );
    println!();
    println!(
        "    {:<width$}  {:>9}  {:>8}  {tail}",
        "total",
        cost::dollars(total),
        cost::dollars(total * HOURS_PER_MONTH),
    );
    println!();
    println!(
        "Plan: {create} to create, {update} to update, {replace} to replace, {delete} to delete."
    );
    if cut {
        println!("(Rows are cut to the terminal's width: `labrun plan --json` has every field.)");
    }
}

/// A time as every `--json` gives it: RFC 3339, UTC.
pub fn rfc3339(unix_secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Dollars rounded to 4 decimals, as every `--json` gives them.
pub fn money(x: f64) -> Json {
    let rounded = (x * 10_000.0).round() / 10_000.0;
    json!(if rounded == 0.0 { 0.0 } else { rounded })
}

/// The plan as JSON: every change with its fields before and after, prices
/// per hour and per month, rounded to 4 decimals.
pub fn json(session: &Session, plan: &Plan, state: &State) -> Json {
    let decl = &session.decl;
    let (prices, total) = session.prices();
    let before = prices_before(state);
    let changes: Vec<_> = (plan.changes.iter())
        .map(|c| {
            let price = (prices.iter())
                .find(|(a, _)| *a == c.address)
                .map(|(_, p)| p.clone())
                .unwrap_or_default();
            let mut v = serde_json::to_value(c).unwrap_or_default();
            v["hourly"] = money(price.hourly);
            v["hourly_before"] = money(before.get(&c.address).copied().unwrap_or(0.0));
            v["monthly"] = money(price.hourly * HOURS_PER_MONTH);
            v["price_note"] = json!(price.note);
            v
        })
        .collect();
    let (create, update, replace, delete) = plan.counts();
    json!({
        "lab": decl.lab,
        "region": decl.region,
        "expires": decl.expires,
        "script": session.origin,
        "changes": changes,
        "counts": {"create": create, "update": update, "replace": replace, "delete": delete},
        "hourly": money(total),
        "hourly_before": money(before.values().sum()),
        "monthly": money(total * HOURS_PER_MONTH),
        "prices_as_of": cost::PRICES_AS_OF,
    })
}

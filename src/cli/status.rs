//! `labrun status` and `labrun ls`: what is up, for how long, at what cost.

use super::{InputError, LsArgs, StatusArgs};
use crate::cost::dollars;
use crate::engine::state::{self, State, Status, now};
use crate::lab_folder::{LabFolder, labs_with_state};
use crate::session::resolve::lab_name;
use anyhow::Result;
use serde_json::json;
use std::process::ExitCode;

fn uptime(s: &State) -> u64 {
    s.up_since.map_or(0, |t| now().saturating_sub(t))
}

fn cost_so_far(s: &State) -> f64 {
    s.hourly_cost * uptime(s) as f64 / 3600.0
}

fn human(secs: u64) -> String {
    humantime::format_duration(std::time::Duration::from_secs(secs))
        .to_string()
        .split(' ')
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

fn summary(s: &State) -> serde_json::Value {
    json!({
        "lab": s.lab,
        "region": s.region,
        "script": s.script,
        "resources": s.resources.len(),
        "uptime_seconds": uptime(s),
        "hourly": s.hourly_cost,
        "cost_so_far": cost_so_far(s),
    })
}

/// `labrun status`.
pub fn status(args: StatusArgs) -> Result<ExitCode> {
    let (name, _) = lab_name(&args.lab)?;
    let Some(s) = state::load(&name)? else {
        return Err(InputError(format!(
            "lab {name} is not up (no state in {})",
            LabFolder::of(&name)?.dir().display()
        ))
        .into());
    };
    if args.json {
        let mut v = summary(&s);
        v["resources"] = s
            .resources
            .iter()
            .map(|(a, r)| json!({"address": a, "kind": r.kind, "id": r.id, "status": r.status, "attrs": r.attrs}))
            .collect();
        v["outputs"] = json!(s.outputs);
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Lab {} in {}: up {}, {}/hour, {} so far",
        s.lab,
        s.region,
        human(uptime(&s)),
        dollars(s.hourly_cost),
        dollars(cost_so_far(&s))
    );
    let width = s.resources.keys().map(String::len).max().unwrap_or(8);
    for (a, r) in &s.resources {
        let status = match r.status {
            Status::Created => "",
            Status::Creating => "  (creation did not finish)",
        };
        println!("  {a:<width$}  {}{status}", r.id.as_deref().unwrap_or("-"));
    }
    for (k, v) in &s.outputs {
        println!(
            "  {k} = {}",
            v.as_str().map_or_else(|| v.to_string(), String::from)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `labrun ls`.
pub fn ls(args: LsArgs) -> Result<ExitCode> {
    let states: Vec<State> = labs_with_state()?
        .iter()
        .filter_map(|n| state::load(n).ok().flatten())
        .collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&states.iter().map(summary).collect::<Vec<_>>())?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if states.is_empty() {
        println!("No labs are up.");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<20} {:<12} {:>9} {:>10} {:>9} {:>9}",
        "lab", "region", "resources", "up", "$/hour", "so far"
    );
    for s in &states {
        println!(
            "{:<20} {:<12} {:>9} {:>10} {:>9} {:>9}",
            s.lab,
            s.region,
            s.resources.len(),
            human(uptime(s)),
            dollars(s.hourly_cost),
            dollars(cost_so_far(s))
        );
    }
    Ok(ExitCode::SUCCESS)
}

//! `labrun status` and `labrun ls`: what is up, for how long, at what cost.

use super::{InputError, LsArgs, StatusArgs};
use crate::aws::Aws;
use crate::aws::inspect::configured_region;
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

fn human(secs: u64) -> String {
    humantime::format_duration(std::time::Duration::from_secs(secs))
        .to_string()
        .split(' ')
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// "3h 12m left", "expired 5m ago", or "-" without a TTL.
fn time_left(left: Option<i64>) -> String {
    match left {
        None => "-".into(),
        Some(l) if l > 0 => format!("{} left", human(l as u64)),
        Some(l) => format!("expired {} ago", human(l.unsigned_abs())),
    }
}

/// One lab as `status` summarizes it and `ls` lists it.
struct Row {
    lab: String,
    region: String,
    script: String,
    resources: usize,
    uptime: u64,
    hourly: f64,
    expires_at: Option<u64>,
    /// Found in the account by its `labrun:lab` tag, with no state here.
    found_by_tag: bool,
}

impl Row {
    fn of(s: &State) -> Row {
        Row {
            lab: s.lab.clone(),
            region: s.region.clone(),
            script: s.script.clone(),
            resources: s.resources.len(),
            uptime: uptime(s),
            hourly: s.hourly_cost,
            expires_at: s.expires.map(|e| e.at),
            found_by_tag: false,
        }
    }

    fn cost_so_far(&self) -> f64 {
        self.hourly * self.uptime as f64 / 3600.0
    }

    fn time_left(&self) -> Option<i64> {
        self.expires_at.map(|at| at as i64 - now() as i64)
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "lab": self.lab,
            "region": self.region,
            "script": self.script,
            "resource_count": self.resources,
            "uptime_seconds": self.uptime,
            "hourly": super::plan_view::money(self.hourly),
            "cost_so_far": super::plan_view::money(self.cost_so_far()),
            "expires_at": self.expires_at.map(|at| super::plan_view::rfc3339(at as i64)),
            "time_left_seconds": self.time_left(),
            "found_by_tag": self.found_by_tag,
        })
    }
}

fn summary(s: &State) -> serde_json::Value {
    Row::of(s).json()
}

/// `labrun status`.
pub(super) fn status(args: StatusArgs) -> Result<ExitCode> {
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
    print(&s);
    Ok(ExitCode::SUCCESS)
}

/// Prints a lab's state: uptime, cost, time to live, resources, outputs
/// (`labrun status`, and `:status` in the REPL).
pub fn print(s: &State) {
    println!(
        "Lab {} in {}: up {}, {}/hour, {} so far",
        s.lab,
        s.region,
        human(uptime(s)),
        dollars(s.hourly_cost),
        dollars(Row::of(s).cost_so_far())
    );
    if s.expires.is_some() {
        println!("  time to live: {}", time_left(s.time_left()));
    }
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
}

/// Labs found in the account by their tag that have no state here.
async fn found_by_tag(regions: Vec<String>, known: &[String]) -> Vec<Row> {
    let mut rows = Vec::new();
    for region in regions {
        let aws = match Aws::connect(&region).await {
            Ok(aws) => aws,
            Err(e) => {
                eprintln!("not looking for labs by tag in {region}: {e:#}");
                return rows;
            }
        };
        let names = match aws.tagged_labs().await {
            Ok(names) => names,
            Err(e) => {
                eprintln!("cannot list labs by tag in {region}: {e}");
                continue;
            }
        };
        for lab in names.into_iter().filter(|n| !known.contains(n)) {
            match aws.census(&lab).await {
                Ok(c) if !c.resources.is_empty() => rows.push(Row {
                    lab,
                    region: region.clone(),
                    script: String::new(),
                    resources: c.resources.len(),
                    uptime: c.since.map_or(0, |t| now().saturating_sub(t)),
                    hourly: c.hourly,
                    expires_at: None,
                    found_by_tag: true,
                }),
                Ok(_) => {}
                Err(e) => eprintln!("cannot look at lab {lab} in {region}: {e}"),
            }
        }
    }
    rows
}

/// `labrun ls`: the labs with a state here, then those found only by tag.
pub(super) async fn ls(args: LsArgs) -> Result<ExitCode> {
    let states: Vec<State> = labs_with_state()?
        .iter()
        .filter_map(|n| state::load(n).ok().flatten())
        .collect();
    let mut rows: Vec<Row> = states.iter().map(Row::of).collect();
    if !args.local {
        let mut regions = args.region.clone();
        if regions.is_empty() {
            regions.extend(configured_region().await);
            regions.extend(states.iter().map(|s| s.region.clone()));
            if regions.is_empty() {
                regions.push("us-east-1".into());
            }
        }
        regions.sort();
        regions.dedup();
        let known: Vec<String> = states.iter().map(|s| s.lab.clone()).collect();
        rows.extend(found_by_tag(regions, &known).await);
    }
    if args.json {
        let list: Vec<_> = rows.iter().map(Row::json).collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("No labs are up.");
        return Ok(ExitCode::SUCCESS);
    }
    let width = rows.iter().map(|r| r.lab.len()).max().unwrap_or(3).max(3);
    let region = rows
        .iter()
        .map(|r| r.region.len())
        .max()
        .unwrap_or(6)
        .max(6);
    println!(
        "{:<width$}  {:<region$} {:>9} {:>10} {:>9} {:>9}  {:<18}  note",
        "lab", "region", "resources", "up", "$/hour", "so far", "ttl"
    );
    for r in &rows {
        println!(
            "{:<width$}  {:<region$} {:>9} {:>10} {:>9} {:>9}  {:<18}  {}",
            r.lab,
            r.region,
            r.resources,
            human(r.uptime),
            dollars(r.hourly),
            dollars(r.cost_so_far()),
            time_left(r.time_left()),
            if r.found_by_tag {
                format!(
                    "found by tag, no state here: `labrun down {} --region {}` removes it",
                    r.lab, r.region
                )
            } else {
                String::new()
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

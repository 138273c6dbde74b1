//! `labrun up` and `labrun plan`.

use super::{LabArgs, UpArgs, confirm, plan_view, progress::Reporter};
use crate::aws::Aws;
use crate::cost;
use crate::engine::apply::{self, Options};
use crate::engine::journal::Journal;
use crate::engine::lock::LabLock;
use crate::lua::modules::steps::StepOutcome;
use crate::session::Session;
use crate::session::deliver::Delivered;
use anyhow::Result;
use std::process::ExitCode;
use std::time::Instant;

/// `labrun plan`.
pub fn plan(args: LabArgs) -> Result<ExitCode> {
    let session = Session::open(&args.lab, &args.options(false))?;
    let state = session.state()?;
    let plan = session.plan(&state);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&plan_view::json(&session, &plan))?
        );
    } else {
        plan_view::print(&session, &plan);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_outputs(outputs: &indexmap::IndexMap<String, serde_json::Value>) {
    for (k, v) in outputs {
        let shown = v.as_str().map_or_else(|| v.to_string(), String::from);
        println!("  {k} = {shown}");
    }
}

/// `labrun up`.
pub async fn up(args: UpArgs) -> Result<ExitCode> {
    let session = Session::open(&args.lab.lab, &args.lab.options(true))?;
    let lab = session.lab().to_string();
    let _lock = LabLock::acquire(&lab)?;
    let mut state = session.state()?;
    let plan = session.plan(&state);
    if args.lab.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&plan_view::json(&session, &plan))?
        );
    } else {
        plan_view::print(&session, &plan);
    }
    let (_, hourly) = session.prices();
    if !plan.has_changes() {
        println!("\nNo changes: lab {lab} is up to date.");
        let journal = Journal::new(state);
        return finish(&session, &journal).await;
    }
    let aws = Aws::connect(&session.decl.region).await?;
    if !confirm(&format!("Apply these changes to lab {lab}?"), args.yes)? {
        println!("Nothing done.");
        return Ok(ExitCode::SUCCESS);
    }
    state.script = session.origin.clone();
    state.done_steps.clear();
    let journal = Journal::new(state);
    journal.update(|_| ())?;
    let started = Instant::now();
    let reporter = Reporter::new(args.lab.json);
    let opts = Options {
        parallelism: args.parallelism.into(),
        ..Options::default()
    };
    let report = apply::apply(&session.decl, &plan, &journal, &aws, &reporter, opts).await;
    journal.update(|s| {
        s.hourly_cost = hourly;
        s.outputs = session.outputs(s);
    })?;
    let (calls, mutating) = aws.calls.totals();
    let secs = started.elapsed().as_secs_f64();
    if report.failed() {
        println!();
        for op in report.ops.iter().filter(|o| o.outcome != "done") {
            println!(
                "  {} {}: {}",
                op.outcome,
                op.address,
                op.error.as_deref().unwrap_or("")
            );
        }
        println!(
            "\nLab {lab} is partly up after {secs:.1}s ({calls} API calls, {mutating} changes). Fix the cause and run `labrun up` again, or `labrun down {lab}`."
        );
        return Ok(ExitCode::from(1));
    }
    println!(
        "\nLab {lab} is up in {secs:.1}s: {} operations, {calls} API calls ({mutating} changes). It costs {}/hour ({}/month); `labrun down {lab}` removes it.",
        report.ops.len(),
        cost::dollars(hourly),
        cost::dollars(hourly * cost::HOURS_PER_MONTH),
    );
    finish(&session, &journal).await
}

/// Hands the lab over (access files, lab files, after-up steps) and prints
/// what the user got.
async fn finish(session: &Session, journal: &Journal) -> Result<ExitCode> {
    let delivered = session
        .deliver(journal, |name| eprintln!("  > step {name}"), print_step)
        .await?;
    print_delivered(&delivered);
    if delivered.failed() {
        eprintln!(
            "Lab {} is up but a step failed; fix it and run `labrun up` again (it reruns the steps that did not finish).",
            session.lab()
        );
        return Ok(ExitCode::from(1));
    }
    print_outputs(&journal.read(|s| s.outputs.clone()));
    Ok(ExitCode::SUCCESS)
}

fn print_delivered(d: &Delivered) {
    if let Some((config, node)) = &d.ssh {
        println!("  ssh: ssh -F {} {node}", config.display());
    }
    if let Some((dir, w)) = &d.files {
        println!(
            "  files: {} ({} written, {} unchanged)",
            dir.display(),
            w.written,
            w.unchanged
        );
    }
    for (name, outcome) in &d.steps {
        if let StepOutcome::Skipped(by) = outcome {
            eprintln!("  - step {name}: not run, {by} failed");
        }
    }
}

fn print_step(name: &str, outcome: &StepOutcome) {
    match outcome {
        StepOutcome::Done(t) => eprintln!("  ✓ step {name} ({:.1}s)", t.as_secs_f64()),
        StepOutcome::Failed(e) => eprintln!("  ✗ step {name}: {e}"),
        StepOutcome::AlreadyDone | StepOutcome::Skipped(_) => {}
    }
}

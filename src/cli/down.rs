//! `labrun down`: destroy, sweep by tag, and prove nothing is left.

use super::{DownArgs, confirm, progress::Reporter};
use crate::aws::Aws;
use crate::engine::apply::Options;
use crate::engine::destroy;
use crate::engine::journal::Journal;
use crate::engine::lock::LabLock;
use crate::engine::state::{self, State};
use crate::lab_folder::LabFolder;
use crate::session::resolve::lab_name;
use anyhow::Result;
use std::process::ExitCode;

/// `labrun down`.
pub async fn down(args: DownArgs) -> Result<ExitCode> {
    let (lab, region) = lab_name(&args.lab)?;
    let region = region
        .or_else(|| args.region.clone())
        .unwrap_or_else(|| "us-east-1".into());
    let _lock = LabLock::acquire(&lab)?;
    // Read under the lock: another labrun may have changed it meanwhile.
    let state = state::load(&lab)?;
    let region = state.as_ref().map_or(region, |s| s.region.clone());
    let recorded = state.as_ref().map_or(0, |s| s.resources.len());
    let aws = Aws::connect(&region).await?;
    let question = if recorded > 0 {
        format!(
            "Destroy lab {lab} in {region} ({recorded} resources) and everything tagged with it?"
        )
    } else {
        format!(
            "Lab {lab} has no state here; delete everything tagged labrun:lab={lab} in {region}?"
        )
    };
    if !confirm(&question, args.yes)? {
        println!("Nothing done.");
        return Ok(ExitCode::SUCCESS);
    }
    let journal = Journal::new(state.unwrap_or_else(|| State::new(&lab, &region)));
    let started = std::time::Instant::now();
    let mut opts = Options {
        parallelism: args.parallelism.into(),
        ..Options::default()
    };
    opts.retry.deadline = args.wait;
    let report = destroy::destroy(&journal, &aws, &Reporter::new(false), opts).await;
    let (calls, mutating) = aws.calls.totals();
    let secs = started.elapsed().as_secs_f64();
    for e in &report.errors {
        eprintln!("  ! {e}");
    }
    if report.gone() {
        state::remove(&lab)?;
        LabFolder::of(&lab)?.remove_user_files()?;
        let recovered = match report.errors.len() {
            0 => String::new(),
            n => format!(" ({n} failure(s) above were overcome)"),
        };
        println!(
            "Lab {lab} is gone in {secs:.1}s: {} deleted, {} swept by tag; 0 resources tagged labrun:lab={lab} remain{recovered}. {calls} API calls ({mutating} changes).",
            report.deleted, report.swept
        );
        return Ok(ExitCode::SUCCESS);
    }
    for r in &report.remaining {
        eprintln!("  still there: {} {} ({})", r.kind, r.id, r.address);
    }
    match report.checked {
        true => eprintln!(
            "Lab {lab} is NOT fully gone: {} resource(s) tagged labrun:lab={lab} remain and may cost money. Run `labrun down {lab}` again.",
            report.remaining.len()
        ),
        false => eprintln!(
            "Lab {lab} may NOT be fully gone: what is tagged labrun:lab={lab} could not be listed. Run `labrun down {lab}` again."
        ),
    }
    Ok(ExitCode::from(1))
}

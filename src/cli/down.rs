//! `labrun down`: destroy, sweep by tag, and prove nothing is left.

use super::{DownArgs, confirm, progress::Reporter};
use crate::aws::Aws;
use crate::engine::apply::Options;
use crate::engine::destroy;
use crate::engine::journal::Journal;
use crate::engine::lock::LabLock;
use crate::engine::state::{self, State};
use crate::lab_folder::{LabFolder, labs_with_state};
use crate::session::resolve::lab_name;
use anyhow::Result;
use std::process::ExitCode;

/// `labrun down`.
pub(super) async fn down(args: DownArgs) -> Result<ExitCode> {
    let how = Down {
        yes: args.yes,
        region: args.region.clone(),
        parallelism: args.parallelism.into(),
        wait: args.wait,
    };
    match &args.lab {
        Some(lab) => down_lab(lab, &how).await,
        None => down_expired(&how).await,
    }
}

/// How `down` destroys a lab.
pub struct Down {
    /// Do not ask for confirmation.
    pub yes: bool,
    /// Region to sweep when neither a state nor a script tells it.
    pub region: Option<String>,
    /// Operations in flight at once.
    pub parallelism: usize,
    /// How long a delete waits for what still uses a resource.
    pub wait: std::time::Duration,
}

/// `labrun down --expired`: every lab of this state directory whose TTL
/// has passed (its instances have powered off; the rest still bills).
async fn down_expired(how: &Down) -> Result<ExitCode> {
    let expired: Vec<String> = labs_with_state()?
        .into_iter()
        .filter(|n| {
            state::load(n)
                .ok()
                .flatten()
                .and_then(|s| s.time_left())
                .is_some_and(|left| left <= 0)
        })
        .collect();
    if expired.is_empty() {
        println!("No lab has expired.");
        return Ok(ExitCode::SUCCESS);
    }
    println!("Expired: {}", expired.join(", "));
    let mut code = ExitCode::SUCCESS;
    for lab in &expired {
        if down_lab(lab, how).await? != ExitCode::SUCCESS {
            code = ExitCode::from(1);
        }
    }
    Ok(code)
}

/// Destroys one lab (a name or script), sweeps by tag and checks nothing is
/// left: `labrun down LAB`, and `:down` in the REPL.
pub async fn down_lab(lab: &str, how: &Down) -> Result<ExitCode> {
    let (lab, region) = lab_name(lab)?;
    let region = match how.region.clone().or(region) {
        Some(r) => r,
        None => crate::aws::default_region().await,
    };
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
    if !confirm(&question, how.yes)? {
        println!("Nothing done.");
        return Ok(ExitCode::SUCCESS);
    }
    let journal = Journal::new(state.unwrap_or_else(|| State::new(&lab, &region)));
    let started = std::time::Instant::now();
    let mut opts = Options {
        parallelism: how.parallelism,
        ..Options::default()
    };
    opts.retry.deadline = how.wait;
    let report = destroy::destroy(&journal, &aws, &Reporter::new(false), opts).await;
    let (calls, mutating) = aws.calls.totals();
    let secs = started.elapsed().as_secs_f64();
    for e in &report.errors {
        eprintln!("  ! {e}");
    }
    if recorded == 0 && report.swept == 0 && report.gone() && report.errors.is_empty() {
        println!(
            "Lab {lab} has no state here and nothing tagged labrun:lab={lab} was found in {region} ({calls} API calls). Another region? `labrun down {lab} --region REGION`."
        );
        return Ok(ExitCode::SUCCESS);
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

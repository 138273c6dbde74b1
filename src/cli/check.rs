//! `labrun check LAB [NAME...]`: runs the checks a lab declares against it
//! as it is up, once or every few seconds; and the check lines `up` prints.

use super::parse_var;
use crate::lua::modules::tasks::Outcome;
use crate::session::{self, Session};
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Lab name (its state says which script) or script.
    lab: String,
    /// Checks to run, with those they need first (default: all).
    names: Vec<String>,
    /// Set a lab variable read by labrun.var (repeatable), as given to `up`.
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// Machine-readable output: per check, name, status, reason and duration (one document per run).
    #[arg(long)]
    json: bool,
    /// Run again every SECS seconds (default 30) until Ctrl-C.
    #[arg(long, value_name = "SECS", num_args = 0..=1, default_missing_value = "30",
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    watch: Option<u64>,
}

/// A check's line: ✓ or ✗, its name, how long it took, why it failed.
pub fn line(name: &str, outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::Done(t) => Some(format!("  ✓ {name} ({:.1}s)", t.as_secs_f64())),
        Outcome::Failed { reason, took } => {
            Some(format!("  ✗ {name} ({:.1}s): {reason}", took.as_secs_f64()))
        }
        Outcome::Skipped(by) => Some(format!("  ✗ {name}: not run, {by} failed")),
        Outcome::LeftOut => None,
    }
}

/// Prints a check's line as it ends.
fn print(name: &str, outcome: &Outcome) {
    if let Some(l) = line(name, outcome) {
        println!("{l}");
    }
}

/// One line saying how many checks failed, if any did.
pub fn summary(checked: &[(String, Outcome)]) -> Option<String> {
    let failed = checked.iter().filter(|(_, o)| o.failed()).count();
    (failed > 0).then(|| format!("✗ {failed} of {} checks failed", checked.len()))
}

/// A check as `--json` gives it.
pub fn json(name: &str, outcome: &Outcome) -> serde_json::Value {
    let (status, reason, took) = match outcome {
        Outcome::Done(t) => ("passed", None, Some(*t)),
        Outcome::Failed { reason, took } => ("failed", Some(reason.clone()), Some(*took)),
        Outcome::Skipped(by) => ("skipped", Some(format!("not run, {by} failed")), None),
        Outcome::LeftOut => ("not run", None, None),
    };
    serde_json::json!({
        "name": name,
        "status": status,
        "reason": reason,
        "duration": took.map(|t| (t.as_secs_f64() * 1000.0).round() / 1000.0),
    })
}

/// `labrun check`.
pub async fn check(args: CheckArgs) -> Result<ExitCode> {
    let opts = session::Options {
        vars: args.vars.iter().cloned().collect(),
        // A lab that is up has its keys: nothing made here is kept.
        save_secrets: false,
        ..session::Options::default()
    };
    let session = Session::open_up(&args.lab, &opts)?;
    let lab = session.lab().to_string();
    if session.checks().is_empty() {
        if args.json {
            println!("[]");
        } else {
            eprintln!("Lab {lab} declares no checks (labrun.check in its script).");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut stop = std::pin::pin!(tokio::signal::ctrl_c());
    let mut code = ExitCode::SUCCESS;
    loop {
        if args.watch.is_some() && !args.json {
            let now = humantime::format_rfc3339_seconds(SystemTime::now());
            println!("checks of lab {lab} at {now}");
        }
        let on_done = |name: &str, o: &Outcome| {
            if !args.json {
                print(name, o);
            }
        };
        let state = session.state()?;
        let checked = tokio::select! {
            checked = session.check(&state, &args.names, on_done) => checked?,
            _ = &mut stop => return Ok(code),
        };
        code = match summary(&checked) {
            Some(line) => {
                if !args.json {
                    println!("{line}");
                }
                ExitCode::from(1)
            }
            None => ExitCode::SUCCESS,
        };
        if args.json {
            let list: Vec<_> = checked.iter().map(|(n, o)| json(n, o)).collect();
            let list = serde_json::Value::Array(list);
            match args.watch {
                Some(_) => println!("{list}"),
                None => println!("{}", serde_json::to_string_pretty(&list)?),
            }
        }
        let Some(secs) = args.watch else {
            return Ok(code);
        };
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(secs)) => {}
            _ = &mut stop => return Ok(code),
        }
    }
}

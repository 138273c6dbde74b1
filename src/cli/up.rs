//! `labrun up` and `labrun plan`.

use super::{LabArgs, UpArgs, check, confirm, plan_view, progress::Reporter};
use crate::aws::Aws;
use crate::cost;
use crate::engine::apply::{self, Options};
use crate::engine::gone;
use crate::engine::journal::Journal;
use crate::engine::lock::LabLock;
use crate::engine::plan::Plan;
use crate::engine::provider::Provider;
use crate::engine::state::State;
use crate::lua::modules::tasks::Outcome;
use crate::session::Session;
use crate::session::deliver::Delivered;
use anyhow::Result;
use serde_json::json;
use std::process::ExitCode;
use std::time::Instant;

/// Where prose goes: stdout, or stderr when stdout carries `--json`.
struct Say {
    json: bool,
}

impl Say {
    fn line(&self, text: impl std::fmt::Display) {
        if self.json {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    }
}

/// The plan, as a table or (with `--json`) a document.
fn show_plan(session: &Session, plan: &Plan, state: &State, args: &LabArgs) -> Result<()> {
    if args.json {
        let v = plan_view::json(session, plan, state);
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        plan_view::print(session, plan, state, args.all);
    }
    Ok(())
}

/// `labrun plan`.
pub(super) fn plan(args: LabArgs) -> Result<ExitCode> {
    let session = Session::open(&args.lab, &args.options(false))?;
    let state = session.state()?;
    let plan = session.plan(&state);
    show_plan(&session, &plan, &state, &args)?;
    Ok(ExitCode::SUCCESS)
}

/// How `up` applies a lab.
pub struct Apply {
    /// Do not ask for confirmation.
    pub yes: bool,
    /// One JSON document on stdout, prose on stderr.
    pub json: bool,
    /// Show unchanged resources in the plan too.
    pub all: bool,
    /// Keys are being made anew (`--renew-pki`, `--renew-keys`).
    pub renews: bool,
    /// Operations in flight at once.
    pub parallelism: usize,
    /// Run the lab's checks at the end.
    pub checks: bool,
}

/// Records in `state` what the lab is brought up from: its script and `--var`s.
fn record_origin(state: &mut State, session: &Session) {
    state.script = session.origin.clone();
    state.vars = session.vars.clone();
}

/// `labrun up`: with `--json`, stdout is one document (the plan, what was
/// done, the cost, the outputs); everything else goes to stderr.
pub(super) async fn up(args: UpArgs) -> Result<ExitCode> {
    let mut opts = args.lab.options(true);
    opts.ttl = args.ttl;
    let session = Session::open(&args.lab.lab, &opts)?;
    crate::session::node_hosts::from_env()?;
    let how = Apply {
        yes: args.yes,
        json: args.lab.json,
        all: args.lab.all,
        renews: args.lab.renews(),
        parallelism: args.parallelism.into(),
        checks: !args.no_checks,
    };
    apply_session(&session, &how).await
}

/// Plans an opened lab, shows the plan, asks, applies, and hands the lab
/// over: `labrun up`, and `:up` in the REPL.
pub async fn apply_session(session: &Session, how: &Apply) -> Result<ExitCode> {
    let say = Say { json: how.json };
    let lab = session.lab().to_string();
    let _lock = LabLock::acquire(&lab)?;
    let mut state = session.state()?;
    if how.renews {
        let question = if state.resources.is_empty() {
            format!("Make lab {lab}'s keys anew?")
        } else {
            format!(
                "Lab {lab} is up: renewing its keys replaces the nodes that carry them and the files you hold (kubeconfigs, VPN configs). Go on?"
            )
        };
        if !confirm(&question, how.yes)? {
            say.line("Nothing done; the lab's keys are unchanged.");
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(backup) = session.save_renewed_secrets()? {
            eprintln!("old keys kept in {}", backup.display());
        }
    }
    let mut aws = None;
    if gone::may_have_vanished(&state) {
        let connected = Aws::connect(&session.decl.region).await?;
        let note = |m: &str| tracing::warn!(target: "labrun::aws", "{m}");
        match connected.tagged(&lab, &note).await {
            Ok(found) => {
                for address in gone::forget(&mut state, &found) {
                    eprintln!(
                        "{address} is gone (terminated outside labrun: a reclaimed spot instance, or by hand); up makes it again"
                    );
                }
            }
            Err(e) => eprintln!(
                "cannot tell whether AWS terminated an instance of the lab ({e}); planning from the state"
            ),
        }
        aws = Some(connected);
    }
    let plan = session.plan(&state);
    let mut doc = json!({ "lab": lab, "plan": plan_view::json(session, &plan, &state) });
    if !say.json {
        plan_view::print(session, &plan, &state, how.all);
    }
    let (_, hourly) = session.prices();
    if !plan.has_changes() {
        say.line(format_args!("\nLab {lab} is up to date."));
        record_origin(&mut state, session);
        let journal = Journal::new(state);
        return finish(session, &journal, &say, doc, how.checks).await;
    }
    let aws = match aws {
        Some(aws) => aws,
        None => Aws::connect(&session.decl.region).await?,
    };
    if !confirm(&format!("Apply these changes to lab {lab}?"), how.yes)? {
        say.line("Nothing done.");
        if say.json {
            doc["applied"] = json!(false);
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    record_origin(&mut state, session);
    state.done_steps.clear();
    let journal = Journal::new(state);
    journal.update(|_| ())?;
    let started = Instant::now();
    let reporter = Reporter::new(say.json);
    let opts = Options {
        parallelism: how.parallelism,
        ..Options::default()
    };
    let report = apply::apply(&session.decl, &plan, &journal, &aws, &reporter, opts).await;
    journal.update(|s| {
        s.hourly_cost = hourly;
        s.expires = session.decl.expires;
        s.outputs = session.outputs(s);
    })?;
    let (calls, mutating) = aws.calls.totals();
    let secs = started.elapsed().as_secs_f64();
    doc["applied"] = json!(true);
    doc["operations"] = serde_json::to_value(&report.ops)?;
    doc["seconds"] = json!((secs * 10.0).round() / 10.0);
    doc["api_calls"] = json!({ "total": calls, "mutating": mutating });
    doc["hourly"] = plan_view::money(hourly);
    if report.failed() {
        say.line("");
        for op in report.ops.iter().filter(|o| o.outcome != "done") {
            say.line(format_args!(
                "  {} {}: {}",
                op.outcome,
                op.address,
                op.error.as_deref().unwrap_or("")
            ));
        }
        if journal.read(|s| s.resources.is_empty()) {
            // Every create failed before it made anything: no lab to list or take down.
            crate::engine::state::remove(&lab)?;
            say.line(format_args!(
                "\nNothing of lab {lab} was made ({calls} API calls in {secs:.1}s). Fix the cause and run `labrun up` again."
            ));
        } else {
            say.line(format_args!(
                "\nLab {lab} is partly up after {secs:.1}s ({calls} API calls, {mutating} changes). Fix the cause and run `labrun up` again, or `labrun down {lab}`."
            ));
        }
        if say.json {
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        return Ok(ExitCode::from(1));
    }
    let n = report.ops.len();
    let costs = if hourly == 0.0 {
        "It costs nothing while up".to_string()
    } else {
        format!(
            "It costs {} an hour ({} a month)",
            cost::dollars(hourly),
            cost::dollars(hourly * cost::HOURS_PER_MONTH)
        )
    };
    say.line(format_args!(
        "\nLab {lab} is up in {secs:.1}s: {n} {}, {calls} API calls ({mutating} changes). {costs}; `labrun down {lab}` removes it.",
        if n == 1 { "operation" } else { "operations" },
    ));
    finish(session, &journal, &say, doc, how.checks).await
}

/// Hands the lab over (access files, lab files, after-up steps), says what
/// the user got, then runs its checks: a failed check says the lab does
/// not work but does not fail `up` (its resources are fine).
async fn finish(
    session: &Session,
    journal: &Journal,
    say: &Say,
    mut doc: serde_json::Value,
    checks: bool,
) -> Result<ExitCode> {
    let delivered = session
        .deliver(journal, |name| eprintln!("  > step {name}"), print_step)
        .await?;
    print_delivered(&delivered, say);
    let outputs = journal.read(|s| s.outputs.clone());
    let failed = delivered.failed();
    if failed {
        eprintln!(
            "Lab {} is up but a step failed; fix it and run `labrun up` again (it reruns the steps that did not finish).",
            session.lab()
        );
    } else {
        for (k, v) in &outputs {
            let shown = v.as_str().map_or_else(|| v.to_string(), String::from);
            say.line(format_args!("  {k} = {shown}"));
        }
    }
    if !failed && checks && !session.checks().is_empty() {
        say.line("Checks:");
        let show = |name: &str, o: &Outcome| {
            if let Some(line) = check::line(name, o) {
                say.line(line);
            }
        };
        let checked = session.check(&journal.snapshot(), &[], show).await?;
        if let Some(failed) = check::summary(&checked) {
            say.line(format_args!(
                "{failed}: lab {lab} is up, its resources are fine, but it does not work as it should; `labrun check {lab}` runs them again.",
                lab = session.lab()
            ));
        }
        doc["checks"] = checked.iter().map(|(n, o)| check::json(n, o)).collect();
    }
    if say.json {
        doc["outputs"] = serde_json::to_value(&outputs)?;
        doc["ssh_config"] = json!(delivered.ssh.as_ref().map(|(p, _)| p.display().to_string()));
        doc["files"] = json!(delivered.files.as_ref().map(|(dir, w)| {
            json!({ "dir": dir.display().to_string(), "written": w.written, "unchanged": w.unchanged })
        }));
        doc["steps"] = delivered
            .steps
            .iter()
            .map(|(name, o)| step_json(name, o))
            .collect();
        println!("{}", serde_json::to_string_pretty(&doc)?);
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn step_json(name: &str, outcome: &Outcome) -> serde_json::Value {
    let (status, seconds, reason) = match outcome {
        Outcome::LeftOut => ("already_done", None, None),
        Outcome::Done(t) => ("done", Some(t.as_secs_f64()), None),
        Outcome::Failed { reason, took } => {
            ("failed", Some(took.as_secs_f64()), Some(reason.clone()))
        }
        Outcome::Skipped(by) => ("skipped", None, Some(format!("{by} failed"))),
    };
    json!({ "name": name, "status": status, "seconds": seconds.map(|s| (s * 10.0).round() / 10.0), "reason": reason })
}

fn print_delivered(d: &Delivered, say: &Say) {
    if let Some((config, node)) = &d.ssh {
        say.line(format_args!("  ssh: ssh -F {} {node}", config.display()));
    }
    if let Some((dir, w)) = &d.files {
        say.line(format_args!(
            "  files: {} ({} written, {} unchanged)",
            dir.display(),
            w.written,
            w.unchanged
        ));
    }
    for (name, outcome) in &d.steps {
        if let Outcome::Skipped(by) = outcome {
            eprintln!("  - step {name}: not run, {by} failed");
        }
    }
}

fn print_step(name: &str, outcome: &Outcome) {
    match outcome {
        Outcome::Done(t) => eprintln!("  ✓ step {name} ({:.1}s)", t.as_secs_f64()),
        Outcome::Failed { reason, .. } => eprintln!("  ✗ step {name}: {reason}"),
        Outcome::LeftOut | Outcome::Skipped(_) => {}
    }
}

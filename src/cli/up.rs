//! `labrun up` and `labrun plan`.

use super::{InputError, LabArgs, UpArgs, confirm, plan_view, progress::Reporter, resolve};
use super::{access, render};
use crate::aws::{self, Aws};
use crate::engine::apply::{self, Options};
use crate::engine::decl::Declaration;
use crate::engine::journal::Journal;
use crate::engine::lock::LabLock;
use crate::engine::plan;
use crate::engine::state::{self, State};
use crate::engine::value::Resolved;
use crate::lua::modules::{lab::Kinds, pki, ssh, steps};
use crate::lua::secrets::LabSecrets;
use crate::lua::{self, Loaded};
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// The kinds scripts can declare.
pub fn kinds() -> Kinds {
    Kinds {
        names: aws::kinds::KINDS.iter().map(|k| k.schema().kind).collect(),
        schema: |k| aws::kinds::find(k).map(|k| k.schema()),
    }
}

/// Finds and runs a lab script; says on stderr how many keys and
/// certificates it made.
pub fn load(args: &LabArgs) -> Result<(PathBuf, Loaded)> {
    let path = resolve::script(&args.lab)?;
    let vars: BTreeMap<String, String> = args.vars.iter().cloned().collect();
    let renew: &[&str] = if args.renew_pki { &[pki::SECRET] } else { &[] };
    let opts = lua::LoadOptions { vars: &vars, renew };
    let loaded = lua::load_lab(&path, &opts, &Aws::offline(), kinds())?;
    if let Some(line) = pki::report(&loaded.lua) {
        eprintln!("{line}");
    }
    Ok((path, loaded))
}

fn current_state(decl: &Declaration) -> Result<State> {
    let state = state::load(&decl.lab)?.unwrap_or_else(|| State::new(&decl.lab, &decl.region));
    if state.region != decl.region && !state.resources.is_empty() {
        return Err(InputError(format!(
            "lab {} is up in {} but its script now says {}: run `labrun down {}` first",
            decl.lab, state.region, decl.region, decl.lab
        ))
        .into());
    }
    Ok(state)
}

/// `labrun plan`.
pub fn plan(args: LabArgs) -> Result<ExitCode> {
    let (_, loaded) = load(&args)?;
    let decl = &loaded.decl;
    let state = current_state(decl)?;
    let plan = plan::plan(decl, &state, &Aws::offline());
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&plan_view::json(decl, &plan))?
        );
    } else {
        plan_view::print(decl, &plan);
    }
    Ok(ExitCode::SUCCESS)
}

/// Resolves the lab's outputs against the state.
fn outputs(decl: &Declaration, state: &State) -> indexmap::IndexMap<String, serde_json::Value> {
    decl.outputs
        .iter()
        .map(|(name, (v, _))| {
            let resolved = match v.resolve(&|r| state.attr(&r.address, &r.attr)) {
                Resolved::Known(j) => j,
                Resolved::Unknown => serde_json::Value::Null,
            };
            (name.clone(), resolved)
        })
        .collect()
}

fn print_outputs(outputs: &indexmap::IndexMap<String, serde_json::Value>) {
    for (k, v) in outputs {
        let shown = v.as_str().map_or_else(|| v.to_string(), String::from);
        println!("  {k} = {shown}");
    }
}

/// `labrun up`.
pub async fn up(args: UpArgs) -> Result<ExitCode> {
    let (path, loaded) = load(&args.lab)?;
    let decl = &loaded.decl;
    let _lock = LabLock::acquire(&decl.lab)?;
    let mut state = current_state(decl)?;
    let plan = plan::plan(decl, &state, &Aws::offline());
    if args.lab.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&plan_view::json(decl, &plan))?
        );
    } else {
        plan_view::print(decl, &plan);
    }
    let (_, hourly) = plan_view::prices(decl);
    let steps = steps::names(&loaded.lua);
    if !plan.has_changes() {
        println!("\nNo changes: lab {} is up to date.", decl.lab);
        if steps.is_empty() || state.steps_done {
            print_outputs(&state.outputs);
            return Ok(ExitCode::SUCCESS);
        }
        return finish(&loaded, &Journal::new(state)).await;
    }
    let aws = Aws::connect(&decl.region).await?;
    if !confirm(
        &format!("Apply these changes to lab {}?", decl.lab),
        args.yes,
    )? {
        println!("Nothing done.");
        return Ok(ExitCode::SUCCESS);
    }
    state.script = std::fs::canonicalize(&path)
        .unwrap_or(path)
        .display()
        .to_string();
    state.steps_done = false;
    let journal = Journal::new(state);
    journal.update(|_| ())?;
    let started = Instant::now();
    let reporter = Reporter::new(args.lab.json);
    let opts = Options {
        parallelism: args.parallelism.into(),
        ..Options::default()
    };
    let report = apply::apply(decl, &plan, &journal, &aws, &reporter, opts).await;
    journal.update(|s| {
        s.hourly_cost = hourly;
        s.outputs = outputs(decl, s);
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
            "\nLab {} is partly up after {secs:.1}s ({calls} API calls, {mutating} changes). Fix the cause and run `labrun up` again, or `labrun down {}`.",
            decl.lab, decl.lab
        );
        return Ok(ExitCode::from(1));
    }
    println!(
        "\nLab {} is up in {secs:.1}s: {} operations, {calls} API calls ({mutating} changes). It costs {}/hour ({}/month); `labrun down {}` removes it.",
        decl.lab,
        report.ops.len(),
        crate::cost::dollars(hourly),
        crate::cost::dollars(hourly * crate::cost::HOURS_PER_MONTH),
        decl.lab
    );
    finish(&loaded, &journal).await
}

/// Writes the lab's declared files (`lab:file`) into `files/` of its
/// private folder, replacing what an earlier `up` wrote there.
fn write_lab_files(loaded: &Loaded) -> Result<PathBuf> {
    let dir = state::lab_dir(&loaded.decl.lab)?.join("files");
    match std::fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("cannot remove {}", dir.display()));
        }
        _ => {}
    }
    render::write_files(&dir, &loaded.files)?;
    Ok(dir)
}

/// After a successful apply: records the nodes, writes the files to reach
/// them and the lab's files, runs the after-up steps, prints the outputs.
async fn finish(loaded: &Loaded, journal: &Journal) -> Result<ExitCode> {
    let decl = &loaded.decl;
    let nodes = journal.update(|s| {
        s.nodes = access::resolve_nodes(decl, s);
        s.outputs = outputs(decl, s);
        s.nodes.clone()
    })?;
    let key = loaded
        .lua
        .app_data_ref::<LabSecrets>()
        .and_then(|s| ssh::user_key(&s));
    if let (false, Some(key)) = (nodes.is_empty(), &key) {
        let files = access::write_files(&decl.lab, &nodes, key)?;
        println!(
            "  ssh: ssh -F {} {}",
            files[0].display(),
            nodes.keys().next().map(String::as_str).unwrap_or("")
        );
    }
    if !loaded.files.is_empty() {
        let dir = write_lab_files(loaded)?;
        println!("  files: {} ({})", dir.display(), loaded.files.len());
    }
    let state = journal.snapshot();
    if !steps::names(&loaded.lua).is_empty() {
        let result = steps::run(&loaded.lua, &state, key, |name| {
            eprintln!("  > step {name}")
        })
        .await;
        journal.update(|s| s.steps_done = result.is_ok())?;
        if let Err(e) = result {
            eprintln!("error: {e}");
            eprintln!(
                "Lab {} is up but a step failed; fix it and run `labrun up` again (steps run again).",
                decl.lab
            );
            return Ok(ExitCode::from(1));
        }
    }
    print_outputs(&journal.read(|s| s.outputs.clone()));
    Ok(ExitCode::SUCCESS)
}

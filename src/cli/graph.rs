//! `labrun graph LAB`: the lab's network picture, or with `--deps` its
//! dependency graph and longest chain, as DOT, SVG (Graphviz `dot`),
//! Mermaid or text.

use super::{GraphArgs, GraphFormat};
use crate::engine::state;
use crate::graph::{self, deps, network};
use crate::session::Session;
use anyhow::{Context, Result};
use std::io::Write;
use std::process::{ExitCode, Stdio};

/// Draws DOT as SVG with Graphviz `dot`.
fn svg(dot: &str) -> Result<Vec<u8>> {
    let mut child = match std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "--format svg needs Graphviz's `dot`, which is not installed (Debian: apt-get install graphviz); \
             `--format dot` prints the DOT to draw elsewhere"
        ),
        Err(e) => return Err(e).context("cannot run dot"),
    };
    child
        .stdin
        .take()
        .context("dot's input")?
        .write_all(dot.as_bytes())?;
    let out = child.wait_with_output().context("cannot run dot")?;
    if !out.status.success() {
        anyhow::bail!(
            "dot failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

/// `labrun graph`.
pub fn graph(args: GraphArgs) -> Result<ExitCode> {
    let opts = crate::session::Options {
        vars: args.vars.iter().cloned().collect(),
        // A picture never renews or upgrades; keys it had to make are kept.
        save_secrets: true,
        ..Default::default()
    };
    let session = Session::open(&args.lab, &opts)?;
    let decl = &session.decl;
    if args.json {
        let edges: Vec<_> = decl
            .resources
            .iter()
            .map(|(a, r)| serde_json::json!({"address": a, "depends_on": r.dependencies()}))
            .collect();
        let g = deps::stages(decl);
        let stages: Vec<_> = (g.ops.iter().zip(&g.deps))
            .map(|(op, waits)| {
                let waits: Vec<String> = waits.iter().map(|&j| g.ops[j].label()).collect();
                serde_json::json!({"stage": op.label(), "waits_for": waits})
            })
            .collect();
        let v = serde_json::json!({
            "lab": decl.lab,
            "resources": edges,
            "stages": stages,
            "longest_chain": deps::longest_chain(&g),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    let picture = if args.deps {
        deps::picture(decl)
    } else {
        let state = state::load(&decl.lab)?.filter(|s| s.region == decl.region);
        network::picture(decl, state.as_ref())
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        GraphFormat::Dot => out.write_all(graph::dot(&picture).as_bytes())?,
        GraphFormat::Svg => out.write_all(&svg(&graph::dot(&picture))?)?,
        GraphFormat::Mermaid => out.write_all(graph::mermaid(&picture).as_bytes())?,
        GraphFormat::Text => out.write_all(graph::text(&picture).as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

//! `labrun graph LAB`: the dependency graph of a lab as Graphviz DOT, in the
//! stages an apply runs (each resource's create split where its dependents
//! can start early), with its longest chain of stages each waiting for the
//! one before (what bounds a parallel apply).

use super::LabArgs;
use crate::aws::Aws;
use crate::engine::graph::Graph;
use crate::engine::plan::plan;
use crate::engine::provider::Provider;
use crate::engine::state::State;
use crate::session::Session;
use anyhow::Result;
use std::collections::HashMap;
use std::process::ExitCode;

/// `labrun graph`.
pub fn graph(args: LabArgs) -> Result<ExitCode> {
    let session = Session::open(&args.lab, &args.options(false))?;
    let decl = &session.decl;
    let aws = Aws::offline();
    let everything = plan(decl, &State::default(), &|k| aws.schema(k));
    let g = Graph::build(decl, &everything, &HashMap::new(), &aws);
    let label = |i: &usize| g.ops[*i].label();
    let chain: Vec<String> = g.longest_chain().iter().map(label).collect();
    if args.json {
        let resources: Vec<_> = decl
            .resources
            .iter()
            .map(|(a, r)| serde_json::json!({"address": a, "depends_on": r.dependencies()}))
            .collect();
        let stages: Vec<_> = (0..g.ops.len())
            .map(|i| {
                let waits: Vec<String> = g.deps[i].iter().map(label).collect();
                serde_json::json!({"stage": label(&i), "waits_for": waits})
            })
            .collect();
        let v = serde_json::json!({
            "lab": decl.lab,
            "resources": resources,
            "stages": stages,
            "longest_chain": chain,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "// longest chain ({} stages): {}",
        chain.len(),
        chain.join(" -> ")
    );
    println!("digraph \"{}\" {{\n  rankdir=LR;", decl.lab);
    for (i, deps) in g.deps.iter().enumerate() {
        println!("  \"{}\";", label(&i));
        for d in deps {
            println!("  \"{}\" -> \"{}\";", label(d), label(&i));
        }
    }
    println!("}}");
    Ok(ExitCode::SUCCESS)
}

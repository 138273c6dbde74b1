//! `labrun graph LAB`: the dependency graph of a lab, as Graphviz DOT, with
//! its longest chain of dependent resources (what bounds a parallel apply).

use super::GraphArgs;
use crate::engine::decl::Declaration;
use crate::engine::plan::topological;
use crate::session::Session;
use anyhow::Result;
use std::collections::HashMap;
use std::process::ExitCode;

/// The longest chain of resources each waiting for the previous one.
pub fn longest_chain(decl: &Declaration) -> Vec<String> {
    let mut best: HashMap<String, Vec<String>> = HashMap::new();
    for address in topological(decl) {
        let mut chain = decl.resources[&address]
            .dependencies()
            .iter()
            .filter_map(|d| best.get(d))
            .max_by_key(|c| c.len())
            .cloned()
            .unwrap_or_default();
        chain.push(address.clone());
        best.insert(address, chain);
    }
    best.into_values()
        .max_by_key(|c| c.len())
        .unwrap_or_default()
}

/// `labrun graph`.
pub fn graph(args: GraphArgs) -> Result<ExitCode> {
    let args = args.lab;
    let session = Session::open(&args.lab, &args.options(!args.renew_pki))?;
    let decl = &session.decl;
    let chain = longest_chain(decl);
    if args.json {
        let edges: Vec<_> = decl
            .resources
            .iter()
            .map(|(a, r)| serde_json::json!({"address": a, "depends_on": r.dependencies()}))
            .collect();
        let v = serde_json::json!({"lab": decl.lab, "resources": edges, "longest_chain": chain});
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "// longest chain ({} resources): {}",
        chain.len(),
        chain.join(" -> ")
    );
    println!("digraph \"{}\" {{\n  rankdir=LR;", decl.lab);
    for (a, r) in &decl.resources {
        println!("  \"{a}\";");
        for d in r.dependencies() {
            println!("  \"{d}\" -> \"{a}\";");
        }
    }
    println!("}}");
    Ok(ExitCode::SUCCESS)
}

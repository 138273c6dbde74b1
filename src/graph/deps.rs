//! The resource dependency graph and its longest chain of resources each
//! waiting for the previous one (what bounds a parallel apply).

use super::{Node, Picture, Style};
use crate::engine::decl::Declaration;
use crate::engine::plan::topological;
use std::collections::HashMap;

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

/// Every resource, an arrow from each to what waits for it.
pub fn picture(decl: &Declaration) -> Picture {
    let chain = longest_chain(decl);
    let mut p = Picture {
        title: decl.lab.clone(),
        notes: vec![format!(
            "longest chain ({} resources): {}",
            chain.len(),
            chain.join(" -> ")
        )],
        ..Picture::default()
    };
    for (address, r) in &decl.resources {
        p.nodes.push(Node {
            id: address.clone(),
            label: vec![address.clone()],
            parent: None,
            round: false,
        });
        for d in r.dependencies() {
            p.edge(&d, address, "", Style::DependsOn);
        }
    }
    p
}

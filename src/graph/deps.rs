//! The dependency graph in the stages an apply runs (a resource's create
//! split where its dependents can start early: a subnet once its VPC's ID
//! is known, not once its DNS settings are made) and its longest chain of
//! stages each waiting for the one before (what bounds a parallel apply).

use super::{Cluster, Node, Picture, Style};
use crate::aws::Aws;
use crate::engine::decl::Declaration;
use crate::engine::graph::Graph;
use crate::engine::plan::plan;
use crate::engine::provider::Provider;
use crate::engine::state::State;
use std::collections::HashMap;

/// The operations of bringing the whole lab up, in their stages.
pub fn stages(decl: &Declaration) -> Graph {
    let aws = Aws::offline();
    let everything = plan(decl, &State::default(), &|k| aws.schema(k));
    Graph::build(decl, &everything, &HashMap::new(), &aws)
}

/// The longest chain of stages of `g` each waiting for the previous one,
/// as `address/stage`.
pub fn longest_chain(g: &Graph) -> Vec<String> {
    g.longest_chain()
        .iter()
        .map(|&i| g.ops[i].label())
        .collect()
}

/// Every resource a box of its stages (one made in one go a single box),
/// an arrow from each stage to what waits for it.
pub fn picture(decl: &Declaration) -> Picture {
    let g = stages(decl);
    let chain = longest_chain(&g);
    let mut p = Picture {
        title: decl.lab.clone(),
        notes: vec![format!(
            "longest chain ({} stages): {}",
            chain.len(),
            chain.join(" -> ")
        )],
        ..Picture::default()
    };
    for op in &g.ops {
        let staged = op.staged.as_ref().map_or(1, |s| s.count);
        let (label, parent) = match (&op.staged, staged) {
            (Some(s), n) if n > 1 => (s.stage.name.to_string(), Some(op.address.clone())),
            _ => (op.address.clone(), None),
        };
        if parent.is_some() && !p.is_cluster(&op.address) {
            p.clusters.push(Cluster {
                id: op.address.clone(),
                label: vec![op.address.clone()],
                parent: None,
            });
        }
        p.nodes.push(Node {
            id: op.label(),
            label: vec![label],
            parent,
            round: false,
        });
    }
    for (i, deps) in g.deps.iter().enumerate() {
        for &d in deps {
            p.edge(&g.ops[d].label(), &g.ops[i].label(), "", Style::DependsOn);
        }
    }
    p
}

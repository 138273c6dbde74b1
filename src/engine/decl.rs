//! What a lab script declared: resources with their properties and where
//! in the script each was declared, and the lab's outputs.

use super::schema::Schema;
use super::value::{Ref, Value};
use indexmap::IndexMap;
use std::fmt;

/// A place in a script: `file:line`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Location {
    pub file: String,
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// An error in a declaration, located in the script.
#[derive(Debug, thiserror::Error)]
#[error("{location}: {message}")]
pub struct DeclError {
    pub location: Location,
    pub message: String,
}

/// One declared resource.
#[derive(Clone, Debug)]
pub struct ResourceDecl {
    pub kind: String,
    pub name: String,
    pub props: IndexMap<String, Value>,
    /// Explicit ordering edges besides the references in `props`.
    pub depends_on: Vec<Ref>,
    pub location: Location,
}

impl ResourceDecl {
    /// `kind.name`.
    pub fn address(&self) -> String {
        address(&self.kind, &self.name)
    }

    /// Addresses this resource depends on, sorted and without repeats.
    pub fn dependencies(&self) -> Vec<String> {
        let mut deps = Vec::new();
        for v in self.props.values() {
            v.visit_refs(&mut |r| deps.push(r.address.clone()));
        }
        deps.extend(self.depends_on.iter().map(|r| r.address.clone()));
        deps.sort();
        deps.dedup();
        deps
    }
}

/// `kind.name`, the address of a resource.
pub fn address(kind: &str, name: &str) -> String {
    format!("{kind}.{name}")
}

/// A node labrun reaches over SSH once the lab is up.
#[derive(Clone, Debug)]
pub struct NodeDecl {
    /// Address, usually an attribute of a resource (a private or public IP).
    pub host: Value,
    pub port: u16,
    pub user: String,
    /// The node to jump through, if any.
    pub jump: Option<String>,
    /// The node's host key (OpenSSH public key line), known before it boots.
    pub host_key: String,
    pub location: Location,
}

/// A lab's time to live and the absolute time it ends, fixed when it comes
/// up (nodes carry it in their Ignition) and kept by later runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Expiry {
    /// The time to live, in seconds.
    pub ttl: u64,
    /// When the lab ends, in Unix seconds.
    pub at: u64,
}

/// A lab as declared by its script.
#[derive(Clone, Debug, Default)]
pub struct Declaration {
    pub lab: String,
    pub region: String,
    /// Set when the lab has a time to live.
    pub expires: Option<Expiry>,
    pub resources: IndexMap<String, ResourceDecl>,
    pub outputs: IndexMap<String, (Value, Location)>,
    pub nodes: IndexMap<String, NodeDecl>,
}

impl Declaration {
    /// Checks what can only be checked once the whole script has run:
    /// references to undeclared resources, dependency cycles, and each
    /// kind's own cross-resource rules.
    pub fn validate(
        &self,
        schemas: &dyn Fn(&str) -> Option<&'static Schema>,
    ) -> Result<(), DeclError> {
        for r in self.resources.values() {
            for dep in r.dependencies() {
                if !self.resources.contains_key(&dep) {
                    return Err(DeclError {
                        location: r.location.clone(),
                        message: format!("{} refers to {dep}, which is not declared", r.address()),
                    });
                }
            }
            if let Some(schema) = schemas(&r.kind) {
                schema.check(&r.props).map_err(|message| DeclError {
                    location: r.location.clone(),
                    message: format!("{}: {message}", r.address()),
                })?;
            }
        }
        for (name, (value, location)) in &self.outputs {
            let mut missing = None;
            value.visit_refs(&mut |r| {
                if !self.resources.contains_key(&r.address) {
                    missing = Some(r.address.clone());
                }
            });
            if let Some(dep) = missing {
                return Err(DeclError {
                    location: location.clone(),
                    message: format!("output '{name}' refers to {dep}, which is not declared"),
                });
            }
        }
        for (name, node) in &self.nodes {
            let fail = |message: String| DeclError {
                location: node.location.clone(),
                message,
            };
            let mut missing = None;
            node.host.visit_refs(&mut |r| {
                if !self.resources.contains_key(&r.address) {
                    missing = Some(r.address.clone());
                }
            });
            if let Some(dep) = missing {
                return Err(fail(format!(
                    "node '{name}' refers to {dep}, which is not declared"
                )));
            }
            let mut hop = node.jump.as_deref();
            let mut seen = vec![name.as_str()];
            while let Some(j) = hop {
                if seen.contains(&j) {
                    return Err(fail(format!(
                        "node '{name}' jumps in a circle: {} -> {j}",
                        seen.join(" -> ")
                    )));
                }
                let Some(next) = self.nodes.get(j) else {
                    return Err(fail(format!(
                        "node '{name}' jumps through '{j}', which is not a declared node"
                    )));
                };
                seen.push(j);
                hop = next.jump.as_deref();
            }
        }
        if let Some(cycle) = self.find_cycle() {
            let first = &self.resources[&cycle[0]];
            return Err(DeclError {
                location: first.location.clone(),
                message: format!("dependency cycle: {}", cycle.join(" -> ")),
            });
        }
        Ok(())
    }

    /// A cycle of addresses (first repeated at the end), if the graph has one.
    fn find_cycle(&self) -> Option<Vec<String>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Active,
            Done,
        }
        fn visit(
            decl: &Declaration,
            node: &str,
            marks: &mut IndexMap<String, Mark>,
            stack: &mut Vec<String>,
        ) -> Option<Vec<String>> {
            marks.insert(node.to_string(), Mark::Active);
            stack.push(node.to_string());
            for dep in decl.resources[node].dependencies() {
                match marks.get(&dep).copied().unwrap_or(Mark::New) {
                    Mark::Active => {
                        let start = stack.iter().position(|a| *a == dep).unwrap_or(0);
                        let mut cycle = stack[start..].to_vec();
                        cycle.push(dep);
                        return Some(cycle);
                    }
                    Mark::New if decl.resources.contains_key(&dep) => {
                        if let Some(c) = visit(decl, &dep, marks, stack) {
                            return Some(c);
                        }
                    }
                    _ => {}
                }
            }
            stack.pop();
            marks.insert(node.to_string(), Mark::Done);
            None
        }
        let mut marks = IndexMap::new();
        for addr in self.resources.keys() {
            if marks.get(addr).copied().unwrap_or(Mark::New) == Mark::New
                && let Some(c) = visit(self, addr, &mut marks, &mut Vec::new())
            {
                return Some(c);
            }
        }
        None
    }
}

//! Pictures of a lab: its network (VPC, subnets, route tables, gateways,
//! instances with their addresses, load balancers, what security groups
//! let through) and its resource dependency graph, each drawn as Graphviz
//! DOT, a Mermaid flowchart or indented text.

pub mod deps;
pub mod network;
mod render;

pub use render::{dot, mermaid, text};

/// How an edge is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Traffic a security group lets through.
    Allows,
    /// A route of a route table.
    Route,
    /// A route table's subnet, an address on an interface, a listener.
    Attached,
    /// One resource waits for another.
    DependsOn,
}

/// A box in the picture.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub id: String,
    /// Lines of text.
    pub label: Vec<String>,
    /// The cluster it sits in.
    pub parent: Option<String>,
    /// Drawn round (the internet, a CIDR).
    pub round: bool,
}

/// A box of boxes: a VPC, a subnet.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub id: String,
    pub label: Vec<String>,
    pub parent: Option<String>,
}

/// An arrow; `to` may name a cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub label: String,
    pub style: Style,
}

/// A picture to draw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Picture {
    pub title: String,
    pub clusters: Vec<Cluster>,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Lines said before the picture (a comment in DOT and Mermaid).
    pub notes: Vec<String>,
}

impl Picture {
    /// Whether `id` names a cluster.
    pub fn is_cluster(&self, id: &str) -> bool {
        self.clusters.iter().any(|c| c.id == id)
    }

    /// Adds an edge once.
    pub fn edge(&mut self, from: &str, to: &str, label: impl Into<String>, style: Style) {
        let e = Edge {
            from: from.into(),
            to: to.into(),
            label: label.into(),
            style,
        };
        if from != to && !self.edges.contains(&e) {
            self.edges.push(e);
        }
    }
}

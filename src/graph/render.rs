//! Drawing a [`Picture`]: Graphviz DOT, a Mermaid flowchart, indented text.

use super::{Picture, Style};
use std::fmt::Write;

fn dot_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn dot_label(lines: &[String]) -> String {
    dot_quote(&lines.join("\n")).replace('\n', "\\n")
}

/// A hidden point inside a cluster, where edges to the cluster end.
fn anchor(cluster: &str) -> String {
    format!("{cluster}#anchor")
}

/// Whether `id` (a node or cluster) sits inside cluster `cluster`.
fn inside(p: &Picture, id: &str, cluster: &str) -> bool {
    let parent_of = |id: &str| {
        (p.nodes
            .iter()
            .find(|n| n.id == id)
            .map(|n| n.parent.clone()))
        .or_else(|| {
            p.clusters
                .iter()
                .find(|c| c.id == id)
                .map(|c| c.parent.clone())
        })
        .flatten()
    };
    let mut at = parent_of(id);
    while let Some(c) = at {
        if c == cluster {
            return true;
        }
        at = parent_of(&c);
    }
    false
}

/// The picture as Graphviz DOT.
pub fn dot(p: &Picture) -> String {
    let mut out = String::new();
    for n in &p.notes {
        let _ = writeln!(out, "// {n}");
    }
    let _ = writeln!(out, "digraph {} {{", dot_quote(&p.title));
    out.push_str(
        "  compound=true; rankdir=LR; fontname=\"Helvetica\"; fontsize=11;\n  \
         node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];\n  \
         edge [fontname=\"Helvetica\", fontsize=9];\n",
    );
    dot_children(p, None, 1, &mut out);
    for e in &p.edges {
        let (from, to) = (
            if p.is_cluster(&e.from) {
                anchor(&e.from)
            } else {
                e.from.clone()
            },
            if p.is_cluster(&e.to) {
                anchor(&e.to)
            } else {
                e.to.clone()
            },
        );
        let mut attrs = vec![format!("label={}", dot_quote(&e.label))];
        // An edge between a cluster and what it holds starts (or ends) at
        // the cluster's inner point instead of its border.
        if p.is_cluster(&e.from) && !inside(p, &e.to, &e.from) {
            attrs.push(format!(
                "ltail={}",
                dot_quote(&format!("cluster_{}", e.from))
            ));
        }
        if p.is_cluster(&e.to) && !inside(p, &e.from, &e.to) {
            attrs.push(format!("lhead={}", dot_quote(&format!("cluster_{}", e.to))));
        }
        attrs.push(
            match e.style {
                Style::Allows => "color=\"#2a7d2a\", fontcolor=\"#2a7d2a\"",
                Style::Route => "color=\"#1f5fa8\", fontcolor=\"#1f5fa8\", style=bold",
                Style::Attached => "style=dashed, arrowhead=none",
                Style::DependsOn => "color=\"#555555\"",
            }
            .to_string(),
        );
        let _ = writeln!(
            out,
            "  {} -> {} [{}];",
            dot_quote(&from),
            dot_quote(&to),
            attrs.join(", ")
        );
    }
    out.push_str("}\n");
    out
}

fn dot_children(p: &Picture, parent: Option<&str>, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    for c in p.clusters.iter().filter(|c| c.parent.as_deref() == parent) {
        let _ = writeln!(
            out,
            "{pad}subgraph {} {{",
            dot_quote(&format!("cluster_{}", c.id))
        );
        let _ = writeln!(
            out,
            "{pad}  label={}; style=rounded; color=\"#888888\";",
            dot_label(&c.label)
        );
        let _ = writeln!(
            out,
            "{pad}  {} [shape=point, style=invis, width=0, height=0, label=\"\"];",
            dot_quote(&anchor(&c.id))
        );
        dot_children(p, Some(&c.id), depth + 1, out);
        let _ = writeln!(out, "{pad}}}");
    }
    for n in p.nodes.iter().filter(|n| n.parent.as_deref() == parent) {
        let shape = if n.round {
            ", shape=ellipse, style=solid"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{pad}{} [label={}{shape}];",
            dot_quote(&n.id),
            dot_label(&n.label)
        );
    }
}

/// A Mermaid node or subgraph ID for `id`.
fn mermaid_id(id: &str) -> String {
    let mut out: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert(0, 'n');
    }
    // Keep IDs apart that differ only in punctuation.
    let hash = id
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
    format!("{out}_{:x}", hash & 0xffff)
}

fn mermaid_text(lines: &[String]) -> String {
    let joined = lines.join("<br/>");
    format!("\"{}\"", joined.replace('"', "#quot;"))
}

/// The picture as a Mermaid flowchart.
pub fn mermaid(p: &Picture) -> String {
    let mut out = String::from("flowchart LR\n");
    for n in &p.notes {
        let _ = writeln!(out, "  %% {n}");
    }
    mermaid_children(p, None, 1, &mut out);
    for e in &p.edges {
        let arrow = match e.style {
            Style::Allows | Style::DependsOn => "-->",
            Style::Route => "==>",
            Style::Attached => "-.-",
        };
        let label = if e.label.is_empty() {
            String::new()
        } else {
            format!("|{}|", mermaid_text(std::slice::from_ref(&e.label)))
        };
        let _ = writeln!(
            out,
            "  {} {arrow}{label} {}",
            mermaid_id(&e.from),
            mermaid_id(&e.to)
        );
    }
    out
}

fn mermaid_children(p: &Picture, parent: Option<&str>, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    for c in p.clusters.iter().filter(|c| c.parent.as_deref() == parent) {
        let _ = writeln!(
            out,
            "{pad}subgraph {}[{}]",
            mermaid_id(&c.id),
            mermaid_text(&c.label)
        );
        mermaid_children(p, Some(&c.id), depth + 1, out);
        let _ = writeln!(out, "{pad}end");
    }
    for n in p.nodes.iter().filter(|n| n.parent.as_deref() == parent) {
        let (open, close) = if n.round { ("((", "))") } else { ("[", "]") };
        let _ = writeln!(
            out,
            "{pad}{}{open}{}{close}",
            mermaid_id(&n.id),
            mermaid_text(&n.label)
        );
    }
}

/// The picture as indented text: what sits where, then the arrows.
pub fn text(p: &Picture) -> String {
    let mut out = format!("{}\n", p.title);
    for n in &p.notes {
        let _ = writeln!(out, "{n}");
    }
    text_children(p, None, 1, &mut out);
    for (style, heading) in [
        (Style::Route, "routes"),
        (Style::Allows, "traffic allowed by security groups"),
        (Style::Attached, "attached"),
        (
            Style::DependsOn,
            "dependencies (each waits for what points to it)",
        ),
    ] {
        let edges: Vec<_> = p.edges.iter().filter(|e| e.style == style).collect();
        if edges.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{heading}:");
        for e in edges {
            let label = if e.label.is_empty() {
                String::new()
            } else {
                format!(": {}", e.label)
            };
            let _ = writeln!(out, "  {} -> {}{label}", e.from, e.to);
        }
    }
    out
}

fn text_children(p: &Picture, parent: Option<&str>, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    for c in p.clusters.iter().filter(|c| c.parent.as_deref() == parent) {
        let _ = writeln!(out, "{pad}{}", c.label.join("  "));
        text_children(p, Some(&c.id), depth + 1, out);
    }
    for n in p.nodes.iter().filter(|n| n.parent.as_deref() == parent) {
        let _ = writeln!(out, "{pad}{}", n.label.join("  "));
    }
}

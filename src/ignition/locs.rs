//! Where each path of the Ignition output came from in the Butane source, and
//! how a problem found at an output path is shown at a source path and line.

use std::collections::HashMap;

use serde_json::Value;

use super::yaml::{Kind, Mark, Node};

/// Ignition output path → Butane source path.
#[derive(Debug, Default)]
pub(crate) struct Locs {
    map: HashMap<String, String>,
}

impl Locs {
    pub fn insert(&mut self, output: &str, source: &str) {
        self.map.insert(output.to_owned(), source.to_owned());
    }

    /// Every path of `value`, written at `output`, came from `source` (the
    /// official tool's `AddFromCommonSource`).
    pub fn cover(&mut self, source: &str, output: &str, value: &Value) {
        self.insert(output, source);
        match value {
            Value::Object(m) => {
                for (k, v) in m {
                    self.cover(source, &format!("{output}.{k}"), v);
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    self.cover(source, &format!("{output}.{i}"), v);
                }
            }
            _ => {}
        }
    }

    /// Each path below `output` in `value` came from the same path below
    /// `source` (a translated subtree moved elsewhere).
    pub fn mirror(&mut self, source: &str, output: &str, value: &Value) {
        self.insert(output, source);
        let entries: Vec<(String, &Value)> = match value {
            Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), v)).collect(),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect(),
            _ => Vec::new(),
        };
        for (seg, v) in entries {
            self.mirror(
                &format!("{source}.{}", snake(&seg)),
                &format!("{output}.{seg}"),
                v,
            );
        }
    }

    /// The source of an output path: its recorded source, or the path with
    /// camelCase names turned to snake_case.
    pub fn source_of(&self, output: &str) -> String {
        match self.map.get(output) {
            Some(source) => source.clone(),
            None => output.split('.').map(snake).collect::<Vec<_>>().join("."),
        }
    }

    /// Moves the recorded output paths through a merge: each path under a
    /// moved prefix is rewritten to the prefix's new place.
    /// Entries under a dropped prefix are forgotten.
    pub fn moved(self, moves: &HashMap<String, Option<String>>) -> Locs {
        let map = self
            .map
            .into_iter()
            .filter_map(|(output, source)| Some((relocate(&output, moves)?, source)))
            .collect();
        Locs { map }
    }

    /// Adds `other`'s entries, keeping ours where both have one.
    pub fn fill_from(&mut self, other: Locs) {
        for (k, v) in other.map {
            self.map.entry(k).or_insert(v);
        }
    }
}

/// `path` with its longest moved prefix replaced; `None` when that prefix
/// was dropped.
fn relocate(path: &str, moves: &HashMap<String, Option<String>>) -> Option<String> {
    let mut end = path.len();
    loop {
        let prefix = &path[..end];
        if let Some(to) = moves.get(prefix) {
            return to.as_ref().map(|to| format!("{to}{}", &path[end..]));
        }
        match prefix.rfind('.') {
            Some(i) => end = i,
            None => return Some(path.to_owned()),
        }
    }
}

/// Butane's snake_case of an Ignition camelCase name (`sizeMiB` → `size_mib`).
pub(crate) fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut rest = name;
    while let Some(c) = rest.chars().next() {
        if let Some(tail) = rest.strip_prefix("MiB") {
            out.push_str("_mib");
            rest = tail;
        } else {
            if c.is_ascii_uppercase() {
                out.push('_');
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The position of the deepest node of `tree` on `path` (`$.a.0.b`), as the
/// official tool places a problem whose path does not fully exist.
pub(crate) fn deepest_mark(tree: &Node, path: &str) -> Option<Mark> {
    let mut node = tree;
    let Some(rest) = path.strip_prefix('$') else {
        return tree.mark;
    };
    for seg in rest.split('.').skip(1) {
        let next = match &node.kind {
            Kind::Map(entries) => entries.iter().find(|(k, _)| k.name == seg).map(|(_, v)| v),
            Kind::Seq(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    node.mark
}

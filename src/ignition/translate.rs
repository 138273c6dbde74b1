//! Walks a config tree against the schema: checks keys and types, renames
//! Butane fields to Ignition ones, and runs the Butane extensions (inline and
//! local contents, trees, mount units, local unit contents and SSH keys, in
//! `extensions`).
//!
//! Every Ignition path written is recorded with the Butane path and position
//! it came from, so errors found later in the Ignition output point into the
//! Butane source, as the official tool does.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::Options;
use super::error::Report;
use super::extensions::{Here, MountRequest, TreeRequest};
use super::schema::{Dialect, Hook, Obj, ROOT, Ty};
use super::yaml::{Kind, Mark, Node};

/// Where an Ignition path came from in the source.
#[derive(Debug, Clone)]
pub(crate) struct Loc {
    pub path: String,
    pub mark: Option<Mark>,
}

pub(crate) struct Walker<'a> {
    dialect: Dialect,
    level: u8,
    pub(super) opts: &'a Options,
    pub report: Report,
    /// Ignition path → source location (Butane input only).
    pub locs: HashMap<String, Loc>,
    pub(super) mounts: Vec<MountRequest>,
    pub(super) trees: Vec<TreeRequest>,
}

pub(crate) const SPEC_VERSIONS: [(&str, &str); 3] =
    [("1.4.0", "3.3.0"), ("1.5.0", "3.4.0"), ("1.6.0", "3.5.0")];

/// The spec level (see `schema`) of an Ignition version.
pub(crate) fn ignition_level(version: &str) -> Option<u8> {
    SPEC_VERSIONS
        .iter()
        .position(|(_, ign)| *ign == version)
        .map(|i| i as u8)
}

pub(crate) fn child(path: &str, seg: impl std::fmt::Display) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}.{seg}")
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

impl<'a> Walker<'a> {
    pub fn new(dialect: Dialect, level: u8, opts: &'a Options) -> Self {
        Walker {
            dialect,
            level,
            opts,
            report: Report::default(),
            locs: HashMap::new(),
            mounts: Vec::new(),
            trees: Vec::new(),
        }
    }

    /// Reads `variant` and `version` of a Butane root and returns the spec
    /// level, or reports why there is none.
    pub fn butane_level(root: &Node, report: &mut Report) -> Option<u8> {
        if !matches!(root.kind, Kind::Map(_)) {
            report.error("$", root.mark, "a Butane config must be a mapping");
            return None;
        }
        let variant = root.get("variant");
        let version = root.get("version");
        let Some(variant_str) = variant.and_then(Node::as_str) else {
            let mark = variant.map_or(root.mark, |n| n.mark);
            report.error(
                "$.variant",
                mark,
                "error parsing variant; must be specified",
            );
            return None;
        };
        let Some(version_str) = version.and_then(Node::as_str) else {
            let mark = version.map_or(root.mark, |n| n.mark);
            report.error(
                "$.version",
                mark,
                "error parsing version; must be a valid semver",
            );
            return None;
        };
        let level = SPEC_VERSIONS.iter().position(|(b, _)| *b == version_str);
        match level {
            Some(level) if variant_str == "fcos" => Some(level as u8),
            _ => {
                let (path, mark) = if variant_str == "fcos" {
                    ("$.version", version.and_then(|n| n.mark))
                } else {
                    ("$.variant", variant.and_then(|n| n.mark))
                };
                report.error(
                    path,
                    mark,
                    format!(
                        "No translator exists for variant {variant_str} with version {version_str} \
                         (labrun translates fcos 1.4.0, 1.5.0 and 1.6.0)"
                    ),
                );
                None
            }
        }
    }

    /// The root converted to Ignition (`None` when the root is not a mapping).
    pub fn root(&mut self, node: &Node) -> Option<Value> {
        self.convert(node, &Ty::Obj(&ROOT), "$", "$")
    }

    fn convert(&mut self, node: &Node, ty: &Ty, src: &str, dst: &str) -> Option<Value> {
        if self.dialect == Dialect::Butane && !dst.is_empty() {
            let loc = Loc {
                path: src.to_owned(),
                mark: node.mark,
            };
            self.locs.insert(dst.to_owned(), loc);
        }
        let value = match ty {
            Ty::Str => node.as_str().map(Value::from),
            Ty::Int => node.as_int().map(Value::from),
            Ty::Bool => node.as_bool().map(Value::from),
            Ty::List(inner) => match &node.kind {
                Kind::Seq(items) => Some(Value::Array(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            self.convert(item, inner, &child(src, i), &child(dst, i))
                                .unwrap_or(Value::Null)
                        })
                        .collect(),
                )),
                // An empty Lua table arrives as an empty object.
                Kind::Map(entries) if entries.is_empty() && node.mark.is_none() => {
                    Some(Value::Array(Vec::new()))
                }
                _ => None,
            },
            Ty::Obj(obj) => match &node.kind {
                Kind::Map(_) => return Some(self.object(node, obj, src, dst)),
                Kind::Seq(items) if items.is_empty() && node.mark.is_none() => {
                    Some(Value::Object(Map::new()))
                }
                _ => None,
            },
            Ty::Unsupported => {
                let what = src.rsplit('.').next().unwrap_or(src);
                self.report.error(
                    src,
                    node.mark,
                    format!("{what} is not supported by labrun's translator"),
                );
                return None;
            }
        };
        if value.is_none() {
            let expected = match ty {
                Ty::Str => "a string",
                Ty::Int => "an integer",
                Ty::Bool => "a boolean",
                Ty::List(_) => "a sequence",
                _ => "a mapping",
            };
            let found = node.describe();
            self.report.error(
                src,
                node.mark,
                format!("expected {expected}, found {found}"),
            );
        }
        value
    }

    fn object(&mut self, node: &Node, obj: &Obj, src: &str, dst: &str) -> Value {
        let Kind::Map(entries) = &node.kind else {
            unreachable!("object() is called on mappings only")
        };
        for (key, _) in entries {
            let known = obj
                .fields
                .iter()
                .any(|f| f.since <= self.level && f.name(self.dialect) == Some(key.name.as_str()));
            if !known {
                let path = child(src, &key.name);
                self.report
                    .warn(&path, key.mark, format!("unused key {}", key.name));
            }
        }
        let mut out = Map::new();
        let mut extras = Map::new();
        let level = self.level;
        for field in obj.fields.iter().filter(|f| f.since <= level) {
            let Some(name) = field.name(self.dialect) else {
                continue;
            };
            let Some(value) = node.get(name).filter(|v| !matches!(v.kind, Kind::Null)) else {
                continue;
            };
            let child_src = child(src, name);
            match field.ignition {
                Some(out_name) => {
                    let child_dst = child(dst, out_name);
                    if let Some(v) = self.convert(value, &field.ty, &child_src, &child_dst)
                        && !is_empty(&v)
                    {
                        out.insert(out_name.to_owned(), v);
                    }
                }
                None => {
                    if let Some(v) = self.convert(value, &field.ty, &child_src, "") {
                        extras.insert(name.to_owned(), v);
                    }
                }
            }
        }
        if self.dialect == Dialect::Butane && obj.hook != Hook::None {
            let at = Here { node, src, dst };
            self.hook(obj.hook, &at, &extras, &mut out);
            // Hooks add fields at the end: restore the schema's order.
            out = obj
                .fields
                .iter()
                .filter_map(|f| f.ignition)
                .filter_map(|name| out.remove(name).map(|v| (name.to_owned(), v)))
                .collect();
        }
        Value::Object(out)
    }
}

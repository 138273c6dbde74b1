//! Walks a config tree against the schema: checks keys and types, renames
//! Butane fields to Ignition ones, and runs the Butane extensions (in
//! `extensions`) and checks (in `source_checks`).
//!
//! Every Ignition path written is recorded with the Butane path it came from,
//! so errors found later in the Ignition output point into the Butane source,
//! as the official tool does.

use serde_json::{Map, Value};

use super::Options;
use super::error::{Phase, Report};
use super::locs::Locs;
use super::requests::{Here, MountRequest, TreeRequest};
use super::schema::{Dialect, Field, Hook, Obj, ROOT, Ty, Unset};
use super::spec::{self, Level};
use super::yaml::{Kind, Node};

pub(crate) struct Walker<'a> {
    dialect: Dialect,
    pub(super) level: Level,
    pub(super) opts: &'a Options,
    pub report: Report,
    /// Ignition path → source path (Butane input only).
    pub locs: Locs,
    pub(super) mounts: Vec<MountRequest>,
    pub(super) trees: Vec<TreeRequest>,
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

/// go-yaml refuses a mapping that repeats a key, each repetition after the
/// first, before looking at what the mapping is decoded into, and decodes
/// nothing in it.
fn repeated_keys(node: &Node, src: &str, report: &mut Report) -> bool {
    let Kind::Map(entries) = &node.kind else {
        return false;
    };
    let mut repeated = false;
    for (i, (key, _)) in entries.iter().enumerate() {
        for (later, _) in entries[i + 1..].iter().filter(|(k, _)| k.name == key.name) {
            let line = key.mark.map_or(0, |m| m.line);
            report.decode_error(
                src,
                later.mark,
                node.mark,
                format!("mapping key {:?} already defined at line {line}", key.name),
            );
            repeated = true;
        }
    }
    repeated
}

/// Whether an object holds nothing but Go value fields at their zero value:
/// Go omits it like an empty one.
fn only_unset(m: &Map<String, Value>, obj: &Obj, level: Level) -> bool {
    m.iter().all(|(k, v)| {
        let field = obj
            .fields
            .iter()
            .find(|f| f.exists(level) && f.ignition == Some(k.as_str()));
        match (field, v) {
            (Some(f), Value::Null) => f.plain(level),
            (Some(f), Value::String(s)) => f.plain(level) && s.is_empty(),
            _ => false,
        }
    })
}

/// Go's zero value of a scalar type, for a `null` list entry.
fn zero(ty: &Ty) -> Option<Value> {
    match ty {
        Ty::Str => Some(Value::from("")),
        Ty::Int => Some(Value::from(0)),
        Ty::Bool => Some(Value::from(false)),
        _ => None,
    }
}

impl<'a> Walker<'a> {
    pub fn new(dialect: Dialect, level: Level, opts: &'a Options) -> Self {
        let mut report = Report::default();
        report.phase = Some(Phase::Source);
        Walker {
            dialect,
            level,
            opts,
            report,
            locs: Locs::default(),
            mounts: Vec::new(),
            trees: Vec::new(),
        }
    }

    /// Reads `variant` and `version` of a Butane root and returns the spec
    /// level, or reports why there is none.
    pub fn butane_level(root: &Node, report: &mut Report) -> Option<Level> {
        if !matches!(root.kind, Kind::Map(_)) {
            report.error("$", root.mark, "a Butane config must be a mapping");
            return None;
        }
        // The official tool first decodes `variant` and `version` alone.
        if repeated_keys(root, "$", report) {
            return None;
        }
        let variant = root.get("variant");
        let version = root.get("version");
        let mut undecodable = false;
        for node in [variant, version].into_iter().flatten() {
            if matches!(node.kind, Kind::Seq(_) | Kind::Map(_)) {
                let field = if variant.is_some_and(|v| std::ptr::eq(v, node)) {
                    "$.variant"
                } else {
                    "$.version"
                };
                let found = node.describe();
                report.decode_error(
                    field,
                    node.mark,
                    node.mark,
                    format!("expected a string, found {found}"),
                );
                undecodable = true;
            }
        }
        if undecodable {
            return None;
        }
        let Some(variant_str) = variant.and_then(Node::as_str).filter(|v| !v.is_empty()) else {
            let mark = variant.map_or(root.mark, |n| n.mark);
            report.error(
                "$.variant",
                mark,
                "error parsing variant; must be specified",
            );
            return None;
        };
        let Some(version_str) = version.and_then(Node::as_str).filter(|v| is_semver(v)) else {
            let mark = version.map_or(root.mark, |n| n.mark);
            report.error(
                "$.version",
                mark,
                "error parsing version; must be a valid semver",
            );
            return None;
        };
        match spec::butane_level(version_str) {
            Some(level) if variant_str == "fcos" => Some(level),
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
                         (labrun translates {})",
                        spec::butane_range()
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

    fn type_error(&mut self, node: &Node, ty: &Ty, src: &str) {
        let expected = match ty {
            Ty::Str => "a string",
            Ty::Int => "an integer",
            Ty::Bool => "a boolean",
            Ty::List(_) => "a sequence",
            Ty::Obj(_) => "a mapping",
        };
        let found = node.describe();
        self.report.decode_error(
            src,
            node.mark,
            node.mark,
            format!("expected {expected}, found {found}"),
        );
    }

    pub(super) fn convert(&mut self, node: &Node, ty: &Ty, src: &str, dst: &str) -> Option<Value> {
        if self.dialect == Dialect::Butane && !dst.is_empty() {
            self.locs.insert(dst, src);
        }
        if repeated_keys(node, src, &mut self.report) {
            return None;
        }
        let value = match ty {
            Ty::Str => node.as_str().map(Value::from),
            Ty::Int => node.as_int().map(Value::from),
            Ty::Bool => node.as_bool().map(Value::from),
            Ty::List(inner) => match &node.kind {
                Kind::Seq(items) => Some(Value::Array(self.entries(items, inner, src, dst))),
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
        };
        if value.is_none() {
            self.type_error(node, ty, src);
        }
        value
    }

    /// go-yaml reads `null` as an empty object, but the official tool then
    /// warns that it cannot check its keys.
    fn null_object(&mut self, null: &Node, src: &str) {
        if self.dialect == Dialect::Butane {
            let saved = self.report.phase.replace(Phase::Unused);
            self.report.warn(
                src,
                null.mark,
                format!(
                    "context tree does not match content tree at {src}. Line and column \
                     reporting may be inconsistent. Unused keys may not be reported"
                ),
            );
            self.report.phase = saved;
        }
    }

    /// The entries of a list. go-yaml drops `null` entries (and the official
    /// tool then warns where a later entry's place holds one); JSON's are
    /// zero values.
    fn entries(&mut self, items: &[Node], ty: &Ty, src: &str, dst: &str) -> Vec<Value> {
        let is_null = |n: &Node| matches!(n.kind, Kind::Null);
        if self.dialect == Dialect::Ignition || !items.iter().any(is_null) {
            return items
                .iter()
                .enumerate()
                .map(|(i, item)| self.entry(item, ty, &child(src, i), &child(dst, i)))
                .collect();
        }
        let kept: Vec<&Node> = items.iter().filter(|n| !is_null(n)).collect();
        let mut out = Vec::with_capacity(kept.len());
        for (i, item) in kept.into_iter().enumerate() {
            let item_src = child(src, i);
            if let Ty::Obj(_) = ty
                && is_null(&items[i])
            {
                self.null_object(&items[i], &item_src);
            }
            out.push(self.entry(item, ty, &item_src, &child(dst, i)));
        }
        out
    }

    /// A list entry; `null` stands for the type's zero value, as in Go's
    /// JSON decoding.
    fn entry(&mut self, item: &Node, ty: &Ty, src: &str, dst: &str) -> Value {
        if matches!(item.kind, Kind::Null) {
            if let Ty::Obj(_) = ty {
                let empty = Node {
                    kind: Kind::Map(Vec::new()),
                    mark: item.mark,
                };
                return self.convert(&empty, ty, src, dst).unwrap_or(Value::Null);
            }
            if let Some(z) = zero(ty) {
                if self.dialect == Dialect::Butane && !dst.is_empty() {
                    self.locs.insert(dst, src);
                }
                return z;
            }
        }
        self.convert(item, ty, src, dst).unwrap_or(Value::Null)
    }

    fn visible(&self, field: &Field) -> bool {
        field.exists(self.level) && field.name(self.dialect).is_some()
    }

    fn object(&mut self, node: &Node, obj: &Obj, src: &str, dst: &str) -> Value {
        let Kind::Map(entries) = &node.kind else {
            unreachable!("object() is called on mappings only")
        };
        let saved = self.report.phase.replace(Phase::Unused);
        for (key, _) in entries {
            let known = obj
                .fields
                .iter()
                .any(|f| self.visible(f) && f.name(self.dialect) == Some(key.name.as_str()));
            if !known {
                let path = child(src, &key.name);
                self.report
                    .warn(&path, key.mark, format!("unused key {}", key.name));
            }
        }
        self.report.phase = saved;
        let mut out = Map::new();
        let mut extras = Map::new();
        let (level, dialect) = (self.level, self.dialect);
        let visible = |f: &&Field| f.exists(level) && f.name(dialect).is_some();
        for field in obj.fields.iter().filter(visible) {
            let name = field.name(dialect).expect("visible fields have a name");
            let child_src = child(src, name);
            let null = node.get(name).filter(|v| matches!(v.kind, Kind::Null));
            if let (Some(null), Ty::Obj(_)) = (null, &field.ty) {
                self.null_object(null, &child_src);
            }
            let given = node.get(name).filter(|v| !matches!(v.kind, Kind::Null));
            match field.ignition {
                Some(out_name) => {
                    let child_dst = child(dst, out_name);
                    let value = match given {
                        Some(v) => self.convert(v, &field.ty, &child_src, &child_dst),
                        None => match field.unset_at(self.level) {
                            Some(Unset::Empty) => Some(Value::from("")),
                            Some(Unset::Null) => Some(Value::Null),
                            None => None,
                        },
                    };
                    let Some(v) = value else { continue };
                    let zero = field.omit_zero && (v == 0 || v == "");
                    let keep = field.keep_empty_until > self.level && given.is_some();
                    let go_zero = match (&field.ty, &v) {
                        (Ty::Obj(inner), Value::Object(m)) => only_unset(m, inner, self.level),
                        _ => is_empty(&v),
                    };
                    if !zero && (keep || !go_zero) {
                        out.insert(out_name.to_owned(), v);
                    }
                }
                None => {
                    if let Some(v) = given.and_then(|v| self.convert(v, &field.ty, &child_src, ""))
                    {
                        extras.insert(name.to_owned(), v);
                    }
                }
            }
        }
        if self.dialect == Dialect::Butane && obj.hook != Hook::None {
            let at = Here { node, src, dst };
            self.hook(obj.hook, &at, &extras, &mut out);
            // Hooks add fields at the end: restore the schema's order.
            let level = self.level;
            out = obj
                .fields
                .iter()
                .filter(|f| f.exists(level))
                .filter_map(|f| f.ignition)
                .filter_map(|name| out.remove(name).map(|v| (name.to_owned(), v)))
                .collect();
        }
        Value::Object(out)
    }
}

/// Whether `v` parses as a semantic version (`1.4.0`, `1.8.0-experimental`).
pub(crate) fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

//! Walks a config tree against the schema: checks keys and types, renames
//! Butane fields to Ignition ones, and runs the Butane extensions (inline and
//! local contents, trees, mount units, local unit contents and SSH keys).
//!
//! Every Ignition path written is recorded with the Butane path and position
//! it came from, so errors found later in the Ignition output point into the
//! Butane source, as the official tool does.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value, json};

use super::Options;
use super::data_url;
use super::error::Report;
use super::schema::{Dialect, Hook, Obj, ROOT, Ty};
use super::yaml::{Kind, Mark, Node};

/// Where an Ignition path came from in the source.
#[derive(Debug, Clone)]
pub(crate) struct Loc {
    pub path: String,
    pub mark: Option<Mark>,
}

/// A filesystem with `with_mount_unit: true`.
struct MountRequest {
    fs: Map<String, Value>,
    loc: Loc,
}

/// A `storage.trees` entry.
struct TreeRequest {
    local: String,
    dest: String,
    loc: Loc,
}

pub(crate) struct Walker<'a> {
    dialect: Dialect,
    level: u8,
    opts: &'a Options,
    pub report: Report,
    /// Ignition path → source location (Butane input only).
    pub locs: HashMap<String, Loc>,
    mounts: Vec<MountRequest>,
    trees: Vec<TreeRequest>,
}

const SPEC_VERSIONS: [(&str, &str); 3] =
    [("1.4.0", "3.3.0"), ("1.5.0", "3.4.0"), ("1.6.0", "3.5.0")];

/// The spec level (see `schema`) of an Ignition version.
pub(crate) fn ignition_level(version: &str) -> Option<u8> {
    SPEC_VERSIONS
        .iter()
        .position(|(_, ign)| *ign == version)
        .map(|i| i as u8)
}

fn child(path: &str, seg: impl std::fmt::Display) -> String {
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

    fn hook(
        &mut self,
        hook: Hook,
        at: &Here,
        extras: &Map<String, Value>,
        out: &mut Map<String, Value>,
    ) {
        match hook {
            Hook::None => {}
            Hook::Root => self.finish_root(extras, out),
            Hook::Resource => self.resource(at, extras, out),
            Hook::File | Hook::Directory => {
                if let Some(mode) = out.get("mode").and_then(Value::as_i64)
                    && is_decimal_mistake(mode, hook == Hook::Directory)
                {
                    let m = at.mark_of("mode");
                    self.report.warn(
                        &child(at.src, "mode"),
                        m,
                        "unreasonable mode would be reasonable if specified in octal; \
                             remember to add a leading zero",
                    );
                }
            }
            Hook::Unit => {
                let Some(local) = extras.get("contents_local").and_then(Value::as_str) else {
                    return;
                };
                let path = child(at.src, "contents_local");
                let mark = at.mark_of("contents_local");
                if out.contains_key("contents") {
                    self.report.error(
                        &path,
                        mark,
                        "only one of the following can be set: contents, contents_local",
                    );
                } else if let Some(bytes) = self.read_local(local, &path, mark) {
                    match String::from_utf8(bytes) {
                        Ok(text) => {
                            out.insert("contents".into(), text.into());
                            let loc = Loc { path, mark };
                            self.locs.insert(child(at.dst, "contents"), loc);
                        }
                        Err(_) => self
                            .report
                            .error(&path, mark, "unit contents must be UTF-8"),
                    }
                }
            }
            Hook::User => self.local_ssh_keys(at, extras, out),
            Hook::Filesystem => self.mount_request(at, extras, out),
            Hook::Tree => {
                let Some(local) = out
                    .get("local")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                else {
                    self.report.error(at.src, at.node.mark, "local is required");
                    return;
                };
                self.trees.push(TreeRequest {
                    local: local.to_owned(),
                    dest: out
                        .get("path")
                        .and_then(Value::as_str)
                        .unwrap_or("/")
                        .to_owned(),
                    loc: Loc {
                        path: at.src.to_owned(),
                        mark: at.node.mark,
                    },
                });
            }
        }
    }

    fn resource(&mut self, at: &Here, extras: &Map<String, Value>, out: &mut Map<String, Value>) {
        let present: Vec<&str> = ["local", "inline", "source"]
            .into_iter()
            .filter(|k| {
                at.node
                    .get(k)
                    .is_some_and(|n| !matches!(n.kind, Kind::Null))
            })
            .collect();
        if present.len() > 1 {
            let last = present[present.len() - 1];
            self.report.error(
                &child(at.src, last),
                at.mark_of(last),
                "only one of the following can be set: inline, local, source",
            );
            return;
        }
        let (field, contents) = if let Some(text) = extras.get("inline").and_then(Value::as_str) {
            ("inline", text.as_bytes().to_vec())
        } else if let Some(local) = extras.get("local").and_then(Value::as_str) {
            let path = child(at.src, "local");
            match self.read_local(local, &path, at.mark_of("local")) {
                Some(bytes) => ("local", bytes),
                None => return,
            }
        } else {
            return;
        };
        let from = Loc {
            path: child(at.src, field),
            mark: at.mark_of(field),
        };
        if at.src.starts_with("$.ignition.config")
            && let Err(e) = super::validate(&String::from_utf8_lossy(&contents))
        {
            self.report.error(
                &from.path,
                from.mark,
                format!("embedded Ignition config is invalid: {e}"),
            );
            return;
        }
        let user_compressed = out
            .get("compression")
            .and_then(Value::as_str)
            .is_some_and(|c| !c.is_empty());
        let (url, compression) = data_url::encode(&contents, user_compressed);
        out.insert("source".into(), url.into());
        self.locs.insert(child(at.dst, "source"), from.clone());
        if let Some(c) = compression {
            out.insert("compression".into(), c.into());
            self.locs.insert(child(at.dst, "compression"), from);
        }
    }

    fn local_ssh_keys(
        &mut self,
        at: &Here,
        extras: &Map<String, Value>,
        out: &mut Map<String, Value>,
    ) {
        let Some(files) = extras
            .get("ssh_authorized_keys_local")
            .and_then(Value::as_array)
        else {
            return;
        };
        let base = child(at.src, "ssh_authorized_keys_local");
        let list_mark = at.mark_of("ssh_authorized_keys_local");
        let mut keys = match out.remove("sshAuthorizedKeys") {
            Some(Value::Array(keys)) => keys,
            _ => Vec::new(),
        };
        for (i, file) in files.iter().enumerate() {
            let Some(name) = file.as_str() else { continue };
            let path = child(&base, i);
            let mark = at
                .node
                .get("ssh_authorized_keys_local")
                .and_then(|n| match &n.kind {
                    Kind::Seq(items) => items.get(i).and_then(|n| n.mark),
                    _ => None,
                })
                .or(list_mark);
            let Some(bytes) = self.read_local(name, &path, mark) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            for line in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
                if !line.is_empty() {
                    let dst = child(&child(at.dst, "sshAuthorizedKeys"), keys.len());
                    self.locs.insert(
                        dst,
                        Loc {
                            path: path.clone(),
                            mark,
                        },
                    );
                    keys.push(line.into());
                }
            }
        }
        if !keys.is_empty() {
            out.insert("sshAuthorizedKeys".into(), Value::Array(keys));
        }
    }

    fn mount_request(&mut self, at: &Here, extras: &Map<String, Value>, out: &Map<String, Value>) {
        if extras.get("with_mount_unit") != Some(&Value::Bool(true)) {
            return;
        }
        let format = out.get("format").and_then(Value::as_str).unwrap_or("");
        let path = out.get("path").and_then(Value::as_str).unwrap_or("");
        if format.is_empty() {
            self.report.error(
                &child(at.src, "format"),
                at.mark_of("format"),
                "format is required if with_mount_unit is true",
            );
            return;
        }
        if format != "swap" {
            let problem = if path.is_empty() {
                "path is required if with_mount_unit is true and format is not swap"
            } else if !(path == "/etc"
                || path == "/var"
                || path.starts_with("/etc/")
                || path.starts_with("/var/"))
            {
                "path must be under /etc or /var if with_mount_unit is true"
            } else {
                ""
            };
            if !problem.is_empty() {
                self.report
                    .error(&child(at.src, "path"), at.mark_of("path"), problem);
                return;
            }
        }
        self.mounts.push(MountRequest {
            fs: out.clone(),
            loc: Loc {
                path: child(at.src, "with_mount_unit"),
                mark: at.mark_of("with_mount_unit"),
            },
        });
    }

    /// Sets `ignition.version`, then adds mount units and trees.
    fn finish_root(&mut self, extras: &Map<String, Value>, out: &mut Map<String, Value>) {
        let butane_version = extras
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let version = SPEC_VERSIONS
            .iter()
            .find(|(b, _)| *b == butane_version)
            .map_or("", |(_, ign)| ign);
        let ignition = out
            .entry("ignition")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(section) = ignition {
            section.insert("version".into(), version.into());
        }
        self.add_mount_units(out);
        self.add_trees(out);
        // Sections created by the steps above follow Ignition's order too.
        let order = [
            "ignition",
            "kernelArguments",
            "passwd",
            "storage",
            "systemd",
        ];
        let mut sorted: Map<String, Value> = Map::new();
        for key in order {
            if let Some(v) = out.remove(key) {
                sorted.insert(key.into(), v);
            }
        }
        *out = sorted;
    }

    fn add_mount_units(&mut self, out: &mut Map<String, Value>) {
        if self.mounts.is_empty() {
            return;
        }
        let luks = out
            .get("storage")
            .and_then(|s| s.get("luks"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let units = section_list(out, "systemd", "units");
        for request in std::mem::take(&mut self.mounts) {
            let unit = mount_unit(&request.fs, &luks);
            let name = unit["name"].clone();
            let index = match units.iter().position(|u| u.get("name") == Some(&name)) {
                Some(i) => {
                    // The user's unit of the same name overrides generated fields.
                    if let (Some(existing), Value::Object(generated)) =
                        (units[i].as_object_mut(), unit)
                    {
                        for (k, v) in generated {
                            existing.entry(k).or_insert(v);
                        }
                    }
                    i
                }
                None => {
                    units.push(unit);
                    units.len() - 1
                }
            };
            self.locs
                .insert(format!("$.systemd.units.{index}"), request.loc);
        }
    }

    fn add_trees(&mut self, out: &mut Map<String, Value>) {
        for request in std::mem::take(&mut self.trees) {
            let Some(dir) = self.opts.files_dir.clone() else {
                self.report.error(
                    &request.loc.path,
                    request.loc.mark,
                    "local file paths are relative to a files directory that must be specified (files_dir)",
                );
                return;
            };
            let root = match within(&dir, &request.local) {
                Ok(p) => p,
                Err(e) => {
                    self.report.error(&request.loc.path, request.loc.mark, e);
                    continue;
                }
            };
            if !root.is_dir() {
                self.report.error(
                    &request.loc.path,
                    request.loc.mark,
                    "root of tree must be a directory",
                );
                continue;
            }
            let mut entries = Vec::new();
            if let Err(e) = walk(&root, "", &mut entries) {
                self.report.error(&request.loc.path, request.loc.mark, e);
                continue;
            }
            for (rel, entry) in entries {
                let dest = clean_join(&request.dest, &rel);
                if let Err(e) = self.add_tree_entry(out, &dest, entry, &request.loc) {
                    self.report
                        .error(&request.loc.path, request.loc.mark, format!("{dest}: {e}"));
                }
            }
        }
    }

    fn add_tree_entry(
        &mut self,
        out: &mut Map<String, Value>,
        dest: &str,
        entry: TreeEntry,
        loc: &Loc,
    ) -> Result<(), String> {
        const EXISTS: &str = "matching filesystem node has existing contents or different type";
        let (list, item) = match entry {
            TreeEntry::File {
                contents,
                executable,
            } => {
                let (url, compression) = data_url::encode(&contents, false);
                let mode = if executable { 0o755 } else { 0o644 };
                let file = json!({"path": dest, "contents": {"compression": compression, "source": url}, "mode": mode});
                ("files", file)
            }
            TreeEntry::Link(target) => ("links", json!({"path": dest, "target": target})),
        };
        let storage = out
            .entry("storage")
            .or_insert_with(|| Value::Object(Map::new()));
        let taken_elsewhere = ["files", "directories", "links"]
            .into_iter()
            .filter(|l| *l != list)
            .any(|l| has_path(storage.get(l), dest));
        let entries = section_list(out, "storage", list);
        let existing = entries
            .iter()
            .position(|e| e.get("path").and_then(Value::as_str) == Some(dest));
        let index = match existing {
            Some(i) => {
                let filled = if list == "files" {
                    "contents"
                } else {
                    "target"
                };
                let slot = entries[i].as_object_mut().ok_or(EXISTS)?;
                if slot.contains_key(filled) {
                    return Err(EXISTS.into());
                }
                if let Value::Object(generated) = item {
                    for (k, v) in generated {
                        slot.entry(k).or_insert(v);
                    }
                }
                i
            }
            None if taken_elsewhere => return Err(EXISTS.into()),
            None => {
                entries.push(item);
                entries.len() - 1
            }
        };
        self.locs
            .insert(format!("$.storage.{list}.{index}"), loc.clone());
        Ok(())
    }

    /// Reads a file under `files_dir`, reporting at `path` what went wrong.
    fn read_local(&mut self, rel: &str, path: &str, mark: Option<Mark>) -> Option<Vec<u8>> {
        let Some(dir) = &self.opts.files_dir else {
            self.report.error(
                path,
                mark,
                "local file paths are relative to a files directory that must be specified (files_dir)",
            );
            return None;
        };
        let read = within(dir, rel).and_then(|p| {
            std::fs::read(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))
        });
        read.map_err(|e| self.report.error(path, mark, e)).ok()
    }
}

/// The node being translated, with its source and output paths.
struct Here<'n> {
    node: &'n Node,
    src: &'n str,
    dst: &'n str,
}

impl Here<'_> {
    fn mark_of(&self, key: &str) -> Option<Mark> {
        self.node.get(key).and_then(|n| n.mark).or(self.node.mark)
    }
}

/// `out[section][list]` as a mutable vector, created when missing.
fn section_list<'m>(
    out: &'m mut Map<String, Value>,
    section: &str,
    list: &str,
) -> &'m mut Vec<Value> {
    let section = out
        .entry(section)
        .or_insert_with(|| Value::Object(Map::new()));
    if !section.is_object() {
        *section = Value::Object(Map::new());
    }
    let list = section
        .as_object_mut()
        .expect("made an object above")
        .entry(list)
        .or_insert_with(|| Value::Array(Vec::new()));
    if !list.is_array() {
        *list = Value::Array(Vec::new());
    }
    list.as_array_mut().expect("made an array above")
}

fn has_path(list: Option<&Value>, path: &str) -> bool {
    list.and_then(Value::as_array).is_some_and(|l| {
        l.iter()
            .any(|e| e.get("path").and_then(Value::as_str) == Some(path))
    })
}

/// `rel` inside `dir`, refusing any path that climbs out of it (checked on the
/// path's text, as Butane does).
fn within(dir: &Path, rel: &str) -> Result<PathBuf, String> {
    let mut parts: Vec<&str> = Vec::new();
    for comp in Path::new(rel).components() {
        match comp {
            Component::Normal(p) => parts.push(p.to_str().unwrap_or_default()),
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err("local file path traverses outside the files directory".into());
                }
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    Ok(parts.iter().fold(dir.to_path_buf(), |p, part| p.join(part)))
}

enum TreeEntry {
    File { contents: Vec<u8>, executable: bool },
    Link(String),
}

/// Files and symlinks under `dir`, in lexical order, with paths relative to
/// the tree's root.
fn walk(dir: &Path, rel: &str, found: &mut Vec<(String, TreeEntry)>) -> Result<(), String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .collect();
    names.sort_by_key(|e| e.file_name());
    for entry in names {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel_path = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let meta =
            std::fs::symlink_metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if meta.is_dir() {
            walk(&path, &rel_path, found)?;
        } else if meta.is_file() {
            let contents = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            found.push((
                rel_path,
                TreeEntry::File {
                    contents,
                    executable: is_executable(&meta),
                },
            ));
        } else if meta.file_type().is_symlink() {
            let target =
                std::fs::read_link(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            found.push((
                rel_path,
                TreeEntry::Link(target.to_string_lossy().into_owned()),
            ));
        } else {
            return Err(format!(
                "{}: trees may only contain files, directories, and symlinks",
                path.display()
            ));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    false
}

/// Joins an absolute base and a relative path, dropping `.` and empty parts.
fn clean_join(base: &str, rel: &str) -> String {
    let parts: Vec<&str> = base
        .split('/')
        .chain(rel.split('/'))
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

/// The unit Butane generates for a filesystem with `with_mount_unit`.
fn mount_unit(fs: &Map<String, Value>, luks: &[Value]) -> Value {
    let text = |k: &str| fs.get(k).and_then(Value::as_str).unwrap_or_default();
    let device = text("device");
    let format = text("format");
    let mount_options: Vec<&str> = fs
        .get("mountOptions")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    // A filesystem on a LUKS volume unlocked through Tang needs the network.
    let remote = luks.iter().any(|l| {
        let name = l.get("name").and_then(Value::as_str).unwrap_or_default();
        let on_it = device == format!("/dev/mapper/{name}")
            || device == format!("/dev/disk/by-id/dm-name-{name}");
        let tang = l.pointer("/clevis/tang").and_then(Value::as_array);
        on_it && tang.is_some_and(|t| !t.is_empty())
    });
    let mut options = String::new();
    if !mount_options.is_empty() || remote {
        let mut all = mount_options;
        if remote {
            all.push("_netdev");
        }
        options = format!("\nOptions={}", all.join(","));
    }
    let (name, contents) = if format == "swap" {
        let contents = format!(
            "# Generated by Butane\n[Swap]\nWhat={device}{options}\n\n[Install]\nRequiredBy=swap.target"
        );
        (format!("{}.swap", unit_path_escape(device)), contents)
    } else {
        let path = text("path");
        let escaped = unit_path_escape(device);
        let target = if remote {
            "remote-fs.target"
        } else {
            "local-fs.target"
        };
        let contents = format!(
            "# Generated by Butane\n[Unit]\nRequires=systemd-fsck@{escaped}.service\n\
             After=systemd-fsck@{escaped}.service\n\n[Mount]\nWhere={path}\nWhat={device}\n\
             Type={format}{options}\n\n[Install]\nRequiredBy={target}"
        );
        (format!("{}.mount", unit_path_escape(path)), contents)
    };
    json!({"contents": contents, "enabled": true, "name": name})
}

/// systemd's path escaping (`systemd-escape --path`).
fn unit_path_escape(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        return "-".into();
    }
    let mut out = String::new();
    let mut in_slashes = false;
    for (i, c) in trimmed.bytes().enumerate() {
        if c == b'/' {
            in_slashes = true;
            continue;
        }
        if in_slashes {
            out.push('-');
            in_slashes = false;
        }
        if (c == b'.' && i == 0)
            || !(c.is_ascii_alphanumeric() || c == b':' || c == b'_' || c == b'.')
        {
            out.push_str(&format!("\\x{c:02x}"));
        } else {
            out.push(c as char);
        }
    }
    out
}

/// Butane's check for a mode written in decimal by mistake (`mode: 644`).
fn is_decimal_mistake(mode: i64, directory: bool) -> bool {
    if !(0..=7777).contains(&mode) {
        return false;
    }
    let digits = [mode / 1000 % 10, mode / 100 % 10, mode / 10 % 10, mode % 10];
    if digits.iter().any(|&d| d > 7) {
        return false;
    }
    let octal = digits.iter().fold(0, |acc, d| (acc << 3) | d);
    !is_typical_mode(mode, directory) && is_typical_mode(octal, directory)
}

fn is_typical_mode(mode: i64, directory: bool) -> bool {
    if mode == 0 {
        return true;
    }
    let (mut had_r, mut had_w, mut had_x) = (false, false, false);
    for perm in [mode & 7, (mode >> 3) & 7, (mode >> 6) & 7] {
        let (r, w, x) = (perm & 4 != 0, perm & 2 != 0, perm & 1 != 0);
        if (!r && had_r) || (!w && had_w) || (!x && had_x) {
            return false;
        }
        if x && had_r && !had_x {
            return false;
        }
        if (w || x) && !r {
            return false;
        }
        had_r |= r;
        had_w |= w;
        had_x |= x;
    }
    if !had_r {
        return false;
    }
    if directory {
        had_x && mode & 0o4000 == 0 && (mode & 0o3000 == 0 || had_w)
    } else {
        (mode & 0o6000 == 0 || (had_x && mode & 2 == 0)) && mode & 0o1000 == 0
    }
}

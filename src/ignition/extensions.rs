//! The Butane extensions run while walking a Butane config: inline and
//! local contents, local unit contents and SSH keys, mount units and trees.

use serde_json::{Map, Value, json};

use super::data_url;
use super::local::{TreeEntry, clean_join, walk, within};
use super::mode::is_decimal_mistake;
use super::mount_unit::mount_unit;
use super::schema::Hook;
use super::translate::{Loc, SPEC_VERSIONS, Walker, child};
use super::yaml::{Kind, Mark, Node};

/// A filesystem with `with_mount_unit: true`.
pub(crate) struct MountRequest {
    fs: Map<String, Value>,
    loc: Loc,
}

/// A `storage.trees` entry.
pub(crate) struct TreeRequest {
    local: String,
    dest: String,
    loc: Loc,
}

impl Walker<'_> {
    pub(super) fn hook(
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
            let root = match within(self.opts.files_dir.as_deref(), &request.local) {
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
        let read = within(self.opts.files_dir.as_deref(), rel).and_then(|p| {
            std::fs::read(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))
        });
        read.map_err(|e| self.report.error(path, mark, e)).ok()
    }
}

/// The node being translated, with its source and output paths.
pub(crate) struct Here<'n> {
    pub node: &'n Node,
    pub src: &'n str,
    pub dst: &'n str,
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

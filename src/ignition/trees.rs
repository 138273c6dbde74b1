//! `storage.trees`: a local directory copied file by file (and, fcos 1.7 on,
//! directory by directory) into the config, as the official tool walks it.

use std::path::Path;

use serde_json::{Map, Value};

use super::data_url;
use super::local::{NO_FILES_DIR, within};
use super::requests::TreeRequest;
use super::schema::{DIRECTORY, FILE, LINK, Obj};
use super::translate::Walker;
use super::validate::clean;

const EXISTS: &str = "matching filesystem node has existing contents or different type";

/// Go's `path.Join` of an absolute base and a relative path.
fn join(base: &str, rel: &str) -> String {
    clean(&format!("{base}/{rel}"))
}

/// A node of the tree being walked.
enum Found {
    Dir,
    File { contents: Vec<u8>, executable: bool },
    Link(String),
}

/// Every node under `root` (itself first), in lexical order, with its path
/// relative to `root`; or the first problem, with the node's relative path.
fn walk(root: &Path, rel: &str, found: &mut Vec<(String, Result<Found, String>)>) {
    let path = if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) => return found.push((rel.into(), Err(format!("lstat {}: {e}", path.display())))),
    };
    let kind = meta.file_type();
    if kind.is_dir() {
        found.push((rel.into(), Ok(Found::Dir)));
        let mut names: Vec<_> = match std::fs::read_dir(&path) {
            Ok(d) => d.filter_map(Result::ok).map(|e| e.file_name()).collect(),
            Err(e) => {
                return found.push((rel.into(), Err(format!("open {}: {e}", path.display()))));
            }
        };
        names.sort();
        for name in names {
            let name = name.to_string_lossy();
            let child = if rel.is_empty() {
                name.into_owned()
            } else {
                format!("{rel}/{name}")
            };
            walk(root, &child, found);
        }
    } else if kind.is_file() {
        let node = std::fs::read(&path)
            .map(|contents| Found::File {
                contents,
                executable: is_executable(&meta),
            })
            .map_err(|e| format!("open {}: {e}", path.display()));
        found.push((rel.into(), node));
    } else if kind.is_symlink() {
        let node = std::fs::read_link(&path)
            .map(|t| Found::Link(t.to_string_lossy().into_owned()))
            .map_err(|e| format!("readlink {}: {e}", path.display()));
        found.push((rel.into(), node));
    } else {
        found.push((
            rel.into(),
            Err("trees may only contain files, directories, and symlinks".into()),
        ));
    }
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

/// `storage[list]`, created when missing.
fn storage_list<'c>(config: &'c mut Value, list: &str) -> &'c mut Vec<Value> {
    let storage = config
        .as_object_mut()
        .expect("a config is an object")
        .entry("storage")
        .or_insert_with(|| Value::Object(Map::new()));
    let entry = storage
        .as_object_mut()
        .expect("storage is an object")
        .entry(list)
        .or_insert_with(|| Value::Array(Vec::new()));
    entry.as_array_mut().expect("storage lists are arrays")
}

fn index_of(config: &Value, list: &str, path: &str) -> Option<usize> {
    config
        .pointer(&format!("/storage/{list}"))
        .and_then(Value::as_array)?
        .iter()
        .position(|e| e.get("path").and_then(Value::as_str) == Some(path))
}

/// A file, directory or link entry with its fields in Ignition's order.
fn ordered(entry: Map<String, Value>, obj: &Obj) -> Value {
    let mut entry = entry;
    let mut out = Map::new();
    for name in obj.fields.iter().filter_map(|f| f.ignition) {
        if let Some(v) = entry.remove(name) {
            out.insert(name.to_owned(), v);
        }
    }
    out.extend(entry);
    Value::Object(out)
}

impl Walker<'_> {
    /// Adds the files, links and directories of every tree to `config`.
    pub(super) fn add_trees(&mut self, config: &mut Value) {
        for tree in std::mem::take(&mut self.trees) {
            let Some(dir) = self.opts.files_dir.clone() else {
                self.report.error(&tree.src, None, NO_FILES_DIR);
                return;
            };
            let root = match within(Some(&dir), &tree.local) {
                Ok(root) => root,
                Err(e) => {
                    self.report.error(&tree.src, None, e);
                    continue;
                }
            };
            match std::fs::metadata(&root) {
                Err(e) => {
                    self.report
                        .error(&tree.src, None, format!("stat {}: {e}", root.display()));
                    continue;
                }
                Ok(m) if !m.is_dir() => {
                    self.report
                        .error(&tree.src, None, "root of tree must be a directory");
                    continue;
                }
                Ok(_) => {}
            }
            let dest = tree.path.clone().filter(|p| !p.is_empty());
            let dest = dest.as_deref().unwrap_or("/");
            let mut found = Vec::new();
            walk(&root, "", &mut found);
            for (rel, node) in found {
                let path = join(dest, &rel);
                let result = node.and_then(|node| self.add_tree_node(config, &tree, &path, node));
                if let Err(e) = result {
                    self.report.error(&tree.src, None, e);
                }
            }
        }
    }

    /// A new file, directory or link entry at `path` owned as the tree says.
    fn new_node(tree: &TreeRequest, path: &str) -> Map<String, Value> {
        let mut node = Map::new();
        if let Some(g) = &tree.group {
            node.insert("group".into(), g.clone());
        }
        node.insert("path".into(), path.into());
        if let Some(u) = &tree.user {
            node.insert("user".into(), u.clone());
        }
        node
    }

    /// The index of the `list` entry at `path` the tree fills: the user's
    /// own, when `filled` (a pointer in it) is still empty, or a new one.
    fn tree_entry(
        &mut self,
        config: &mut Value,
        tree: &TreeRequest,
        list: &str,
        path: &str,
        filled: &str,
    ) -> Result<usize, String> {
        if let Some(i) = index_of(config, list, path) {
            let entry = &config["storage"][list][i];
            let has = entry.pointer(filled).and_then(Value::as_str);
            return match has {
                Some(s) if !s.is_empty() => Err(EXISTS.into()),
                _ => Ok(i),
            };
        }
        if Self::taken(config, path) {
            return Err(EXISTS.into());
        }
        let node = Value::Object(Self::new_node(tree, path));
        Ok(self.push_tree_node(config, &tree.src, list, node))
    }

    /// Appends a node the tree at `src` creates; returns its index.
    fn push_tree_node(&mut self, config: &mut Value, src: &str, list: &str, node: Value) -> usize {
        let entries = storage_list(config, list);
        let at = format!("$.storage.{list}.{}", entries.len());
        self.locs.cover(src, &at, &node);
        if entries.is_empty() {
            self.locs.insert(&format!("$.storage.{list}"), src);
        }
        entries.push(node);
        entries.len() - 1
    }

    fn taken(config: &Value, path: &str) -> bool {
        ["files", "directories", "links"]
            .iter()
            .any(|l| index_of(config, l, path).is_some())
    }

    fn add_tree_node(
        &mut self,
        config: &mut Value,
        tree: &TreeRequest,
        path: &str,
        node: Found,
    ) -> Result<(), String> {
        let src = tree.src.as_str();
        match node {
            Found::Dir => {
                if tree.dir_mode.is_none() && tree.user.is_none() && tree.group.is_none() {
                    return Ok(());
                }
                if Self::taken(config, path) {
                    return Err(EXISTS.into());
                }
                let mut dir = Self::new_node(tree, path);
                dir.insert("mode".into(), tree.dir_mode.unwrap_or(0o755).into());
                self.push_tree_node(config, &tree.src, "directories", ordered(dir, &DIRECTORY));
            }
            Found::File {
                contents,
                executable,
            } => {
                let i = self.tree_entry(config, tree, "files", path, "/contents/source")?;
                let at = format!("$.storage.files.{i}");
                let file = config["storage"]["files"][i]
                    .as_object_mut()
                    .expect("file entries are objects");
                let mut resource = file
                    .remove("contents")
                    .and_then(|c| c.as_object().cloned())
                    .unwrap_or_default();
                let user_compressed = resource
                    .get("compression")
                    .and_then(Value::as_str)
                    .is_some_and(|c| !c.is_empty());
                let (url, compression) = data_url::encode(&contents, user_compressed);
                resource.insert("source".into(), url.into());
                self.locs.insert(&format!("{at}.contents.source"), src);
                if let Some(c) = compression {
                    resource.insert("compression".into(), c.into());
                    self.locs.insert(&format!("{at}.contents.compression"), src);
                }
                self.locs.insert(&format!("{at}.contents"), src);
                file.insert(
                    "contents".into(),
                    ordered(resource, &super::schema::RESOURCE),
                );
                if !file.contains_key("mode") {
                    let mode = tree
                        .file_mode
                        .unwrap_or(if executable { 0o755 } else { 0o644 });
                    file.insert("mode".into(), mode.into());
                    self.locs.insert(&format!("{at}.mode"), src);
                }
                let entry = std::mem::take(file);
                config["storage"]["files"][i] = ordered(entry, &FILE);
            }
            Found::Link(target) => {
                let i = self.tree_entry(config, tree, "links", path, "/target")?;
                let link = config["storage"]["links"][i]
                    .as_object_mut()
                    .expect("link entries are objects");
                link.insert("target".into(), target.into());
                self.locs
                    .insert(&format!("$.storage.links.{i}.target"), src);
                let entry = std::mem::take(link);
                config["storage"]["links"][i] = ordered(entry, &LINK);
            }
        }
        Ok(())
    }
}

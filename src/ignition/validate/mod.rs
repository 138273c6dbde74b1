//! Ignition's checks of a config (spec 3.0–3.6), in the order Ignition makes
//! them and with its messages: duplicate entries first, then each object's
//! rules, parents before children.

mod duplicates;
mod resource;
mod storage;
mod systemd;
pub(crate) mod unit_file;
pub(crate) mod url;

use std::collections::HashSet;

use serde_json::Value;

use super::error::Report;
use super::spec::Level;

pub(crate) use duplicates::duplicates;

const NO_VALUES: &[Value] = &[];

fn list<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(NO_VALUES, Vec::as_slice)
}

fn text<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

/// Set and not empty (Ignition's `util.NotEmpty`).
fn not_empty(v: &Value, key: &str) -> bool {
    text(v, key).is_some_and(|s| !s.is_empty())
}

fn is_true(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool) == Some(true)
}

fn is_false(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool) == Some(false)
}

fn int(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

/// The checks of one config at one spec level, reporting at output paths.
struct Checker<'r> {
    level: Level,
    r: &'r mut Report,
}

impl Checker<'_> {
    fn error(&mut self, path: &str, message: impl Into<String>) {
        self.r.output_error(path, message);
    }

    fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.r.output_warn(path, message);
    }

    /// Reports an error of `result` at `at.field` (at `at` when `field` is
    /// empty); the path is only built for an error.
    fn on_error(&mut self, at: &str, field: &str, result: Result<(), impl Into<String>>) {
        if let Err(e) = result {
            if field.is_empty() {
                self.error(at, e);
            } else {
                self.error(&format!("{at}.{field}"), e);
            }
        }
    }
}

/// Duplicate checks, then every other rule: the order of a translation.
pub(crate) fn check(config: &Value, level: Level, r: &mut Report) {
    duplicates(config, level, r);
    semantics(config, level, r);
}

/// Every rule but duplicates, on a config that fits the schema.
pub(crate) fn semantics(config: &Value, level: Level, r: &mut Report) {
    let mut c = Checker { level, r };
    c.path_conflicts(config);
    if let Some(ign) = config.get("ignition") {
        c.ignition(ign);
    }
    if let Some(storage) = config.get("storage") {
        c.storage(storage, "$.storage");
    }
    if let Some(systemd) = config.get("systemd") {
        c.systemd(systemd, "$.systemd");
    }
}

impl Checker<'_> {
    /// Files, directories and links may not be where a unit or drop-in with
    /// contents is written.
    fn path_conflicts(&mut self, config: &Value) {
        const SYSTEMD: &str = "/etc/systemd/system/";
        let mut unit_paths = HashSet::new();
        let units = config
            .get("systemd")
            .map_or(NO_VALUES, |s| list(s, "units"));
        for unit in units {
            let name = text(unit, "name").unwrap_or("");
            if not_empty(unit, "contents") {
                unit_paths.insert(format!("{SYSTEMD}{name}"));
            }
            for dropin in list(unit, "dropins") {
                if not_empty(dropin, "contents") {
                    let dropin_name = text(dropin, "name").unwrap_or("");
                    unit_paths.insert(format!("{SYSTEMD}{name}.d/{dropin_name}"));
                }
            }
        }
        if unit_paths.is_empty() {
            return;
        }
        let Some(storage) = config.get("storage") else {
            return;
        };
        for kind in ["files", "directories", "links"] {
            for (i, node) in list(storage, kind).iter().enumerate() {
                if unit_paths.contains(text(node, "path").unwrap_or("")) {
                    self.error(
                        &format!("$.storage.{kind}.{i}.path"),
                        "path conflicts with systemd unit or dropin",
                    );
                }
            }
        }
    }

    fn ignition(&mut self, ign: &Value) {
        if let Some(cfg) = ign.get("config") {
            self.ignition_config(cfg);
        }
        if let Some(proxy) = ign.get("proxy") {
            self.proxy(proxy);
        }
        if let Some(tls) = ign.pointer("/security/tls") {
            let at = "$.ignition.security.tls.certificateAuthorities";
            let cas = list(tls, "certificateAuthorities");
            if self.level >= super::spec::IGN_3_1 {
                for (i, ca) in cas.iter().enumerate() {
                    self.required_source(ca, &format!("{at}.{i}"));
                }
            }
            for (i, ca) in cas.iter().enumerate() {
                let path = format!("{at}.{i}");
                if self.level >= super::spec::IGN_3_1 {
                    self.resource(ca, &path);
                } else {
                    let source = text(ca, "source").unwrap_or("");
                    let result = url::check(source, self.level);
                    self.on_error(&path, "source", result);
                    self.verification(ca, &path);
                }
            }
        }
    }

    fn ignition_config(&mut self, cfg: &Value) {
        let at = "$.ignition.config";
        let merge = list(cfg, "merge");
        if self.level >= super::spec::IGN_3_1 {
            for (i, res) in merge.iter().enumerate() {
                self.required_source(res, &format!("{at}.merge.{i}"));
            }
            for (i, res) in merge.iter().enumerate() {
                self.resource(res, &format!("{at}.merge.{i}"));
            }
            if let Some(res) = cfg.get("replace") {
                self.resource(res, &format!("{at}.replace"));
            }
        } else {
            let references = merge
                .iter()
                .enumerate()
                .map(|(i, res)| (format!("{at}.merge.{i}"), res))
                .chain(cfg.get("replace").map(|res| (format!("{at}.replace"), res)));
            for (path, res) in references {
                self.optional_url(res, &path);
                self.verification(res, &path);
            }
        }
    }

    fn proxy(&mut self, proxy: &Value) {
        for (key, http_ok) in [("httpProxy", true), ("httpsProxy", false)] {
            let Some(value) = text(proxy, key) else {
                continue;
            };
            let path = format!("$.ignition.proxy.{key}");
            match url::parse(value) {
                Err(e) => self.error(&path, e),
                Ok(u) if u.scheme != "http" && u.scheme != "https" => {
                    self.error(&path, "proxies must be http(s)");
                }
                Ok(u) if u.scheme == "http" && !http_ok => self.warn(
                    &path,
                    "insecure plaintext HTTP proxy specified for HTTPS resources",
                ),
                Ok(_) => {}
            }
        }
    }
}

/// Go's `path.Clean` for absolute paths.
pub(crate) fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Ignition's `validatePath`.
fn check_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        Err("path not specified")
    } else if !path.starts_with('/') {
        Err("path not absolute")
    } else if !is_clean(path) {
        Err("path is not fully simplified")
    } else {
        Ok(())
    }
}

/// An absolute path is what `path.Clean` makes of it: no empty, `.` or `..`
/// element and no trailing slash.
fn is_clean(path: &str) -> bool {
    path == "/"
        || path[1..]
            .split('/')
            .all(|seg| !matches!(seg, "" | "." | ".."))
}

/// Go's `path.Ext`: the suffix from the last dot of the last element.
fn extension(name: &str) -> &str {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.rfind('.').map_or("", |i| &base[i..])
}

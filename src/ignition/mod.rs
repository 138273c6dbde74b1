//! Butane (fcos 1.0.0–1.7.0) to Ignition (3.0.0–3.6.0) translation and
//! Ignition validation, in process and strict by default, as the official
//! Butane tool (v0.29.0) does it.
//!
//! Errors name the JSON path in the input (`$.storage.files.0.mode`) and, for
//! YAML, the line and column, as the official Butane tool reports them. Output
//! is deterministic: the same input always gives byte-identical JSON from
//! [`to_json_string`].

mod boot_device;
mod data_url;
mod embedded;
mod error;
mod extensions;
mod grub;
mod ignition_merge;
mod local;
mod locs;
mod merge;
mod mode;
mod mount_unit;
mod requests;
mod root;
mod schema;
mod source_checks;
mod spec;
mod translate;
mod trees;
mod validate;
mod yaml;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use serde_json::Value;

pub use error::{Error, Severity};
pub use merge::merge;

use error::{Phase, Report};
use locs::{Locs, deepest_mark};
use schema::Dialect;
use translate::Walker;
use yaml::Node;

/// The official Butane release whose behaviour labrun reproduces.
pub const BUTANE_VERSION: &str = "v0.29.0";

/// Translation options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Directory that `local:` contents, `contents_local`,
    /// `ssh_authorized_keys_local` and `trees` are read from; without it they
    /// are errors. Paths may not climb out of it.
    pub files_dir: Option<PathBuf>,
    /// Treat warnings (unused keys, modes that look decimal, enabled units
    /// without an `[Install]` section…) as errors. Default: true.
    pub strict: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            files_dir: None,
            strict: true,
        }
    }
}

/// An Ignition config and the warnings met on the way (always empty in strict
/// mode, where warnings are errors).
#[derive(Debug, Clone)]
pub struct Translation {
    pub config: Value,
    pub warnings: Vec<Error>,
}

/// Butane YAML → Ignition JSON value. `source_name` (a file name, may be
/// empty) prefixes error messages.
pub fn translate_yaml(source_name: &str, yaml: &str, opts: &Options) -> Result<Value, Error> {
    translate_yaml_with_warnings(source_name, yaml, opts).map(|t| t.config)
}

/// [`translate_yaml`], also returning warnings (for non-strict use).
pub fn translate_yaml_with_warnings(
    source_name: &str,
    yaml: &str,
    opts: &Options,
) -> Result<Translation, Error> {
    let tree = yaml::parse(yaml).map_err(|e| e.with_source(source_name))?;
    let mut t = translate_tree(&tree, opts).map_err(|e| e.with_source(source_name))?;
    t.warnings = t
        .warnings
        .into_iter()
        .map(|w| w.with_source(source_name))
        .collect();
    Ok(t)
}

/// A Butane-shaped tree (e.g. converted from a Lua table) → Ignition JSON
/// value. Errors carry the JSON path but no line. Strings are never read as
/// numbers (`mode` must be a number: 420, not "0644"), and an empty object
/// or array stands for either, as Lua cannot tell them apart.
pub fn translate_value(config: &Value, opts: &Options) -> Result<Value, Error> {
    translate_tree(&Node::from_json(config), opts).map(|t| t.config)
}

fn translate_tree(tree: &Node, opts: &Options) -> Result<Translation, Error> {
    let mut report = Report::default();
    let Some(level) = Walker::butane_level(tree, &mut report) else {
        return Err(report.finish(true).expect_err("butane_level reported why"));
    };
    let mut walker = Walker::new(Dialect::Butane, level, opts);
    source_checks::root(tree, level, &mut walker.report);
    let config = walker.root(tree).unwrap_or_default();
    let mut report = std::mem::take(&mut walker.report);
    if !report.has_errors() {
        report.phase = Some(Phase::Output);
        validate::check(&config, level, &mut report);
    }
    place(&mut report, &walker.locs, tree);
    let warnings = report.finish(opts.strict)?;
    Ok(Translation { config, warnings })
}

/// Shows each entry at a source path and position: an output path is
/// traced back to where it came from, and an entry without a position gets
/// the one of the deepest source node on its path, as the official tool does.
fn place(report: &mut Report, locs: &Locs, tree: &Node) {
    for entry in report.entries_mut() {
        if entry.in_output {
            entry.error.path = locs.source_of(&entry.error.path);
            entry.in_output = false;
        }
        if entry.error.line.is_none()
            && let Some(mark) = deepest_mark(tree, &entry.error.path)
        {
            entry.error.line = Some(mark.line);
            entry.error.column = Some(mark.column);
        }
    }
}

/// Validates an Ignition config of spec 3.0.0 to 3.6.0: JSON syntax (with
/// line and column), structure (unknown keys, types), and Ignition's rules
/// (absolute and clean paths, duplicate paths and names, modes, hash sizes,
/// URL schemes, unit suffixes…). Warnings count as errors.
pub fn validate(ignition_json: &str) -> Result<(), Error> {
    let value: Value = serde_json::from_str(ignition_json).map_err(|e| {
        let mark = yaml::Mark {
            line: e.line(),
            column: e.column(),
        };
        Error::new("", Some(mark), format!("invalid JSON: {e}"))
    })?;
    let version = value.pointer("/ignition/version");
    let Some(level) = version
        .and_then(Value::as_str)
        .and_then(spec::ignition_level)
    else {
        let message = match version {
            None => "config version not specified".to_string(),
            Some(v) => format!(
                "unsupported config version {v} (labrun validates {})",
                spec::ignition_range()
            ),
        };
        return Err(Error::new("$.ignition.version", None, message));
    };
    let defaults = Options::default();
    let mut walker = Walker::new(Dialect::Ignition, level, &defaults);
    let config = walker.root(&Node::from_json(&value)).unwrap_or_default();
    let mut report = std::mem::take(&mut walker.report);
    if !report.has_errors() {
        report.phase = Some(Phase::Output);
        validate::check(&config, level, &mut report);
    }
    for entry in report.entries_mut() {
        entry.in_output = false;
    }
    report.finish(true).map(drop)
}

/// Compact JSON with keys in the order they were built: deterministic.
pub fn to_json_string(v: &Value) -> String {
    v.to_string()
}

/// The contents of every file an Ignition config carries inline (`data:`
/// URLs, gzip undone), with its path: what user data would expose.
pub fn inline_files(config: &Value) -> Vec<(String, Vec<u8>)> {
    let files = config
        .pointer("/storage/files")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    files
        .iter()
        .filter_map(|f| {
            let path = f.get("path")?.as_str()?.to_string();
            let contents = f.get("contents")?;
            let mut bytes = data_url::decode(contents.get("source")?.as_str()?).ok()?;
            if contents.get("compression").and_then(Value::as_str) == Some("gzip") {
                let mut out = Vec::new();
                std::io::Read::read_to_end(
                    &mut flate2::read::GzDecoder::new(bytes.as_slice()),
                    &mut out,
                )
                .ok()?;
                bytes = out;
            }
            Some((path, bytes))
        })
        .collect()
}

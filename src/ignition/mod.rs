//! Butane (fcos 1.4.0–1.6.0) to Ignition (3.3.0–3.5.0) translation and
//! Ignition validation, in process and strict by default.
//!
//! Errors name the JSON path in the input (`$.storage.files.0.mode`) and, for
//! YAML, the line and column, as the official Butane tool reports them. Output
//! is deterministic: the same input always gives byte-identical JSON from
//! [`to_json_string`].

mod data_url;
mod error;
mod extensions;
mod local;
mod merge;
mod mode;
mod mount_unit;
mod schema;
mod translate;
mod validate;
mod yaml;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use serde_json::Value;

pub use error::{Error, Severity};
pub use merge::merge;

use error::Report;
use schema::Dialect;
use translate::Walker;
use yaml::Node;

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
    let config = walker.root(tree).unwrap_or_default();
    let mut report = std::mem::take(&mut walker.report);
    if !report.has_errors() {
        let mut found = Report::default();
        validate::check(&config, &mut found);
        // Point the Ignition paths back into the Butane source.
        for e in found.into_entries() {
            report.push(locate(&walker.locs, e));
        }
    }
    let warnings = report.finish(opts.strict)?;
    Ok(Translation { config, warnings })
}

/// `e` with the source path and position its Ignition path was translated
/// from (the nearest translated ancestor when the exact path was generated).
fn locate(locs: &std::collections::HashMap<String, translate::Loc>, mut e: Error) -> Error {
    let mut path = e.path.as_str();
    loop {
        if let Some(loc) = locs.get(path) {
            let loc = loc.clone();
            e.path = loc.path;
            e.line = loc.mark.map(|m| m.line);
            e.column = loc.mark.map(|m| m.column);
            return e;
        }
        match path.rfind('.') {
            Some(i) => path = &path[..i],
            None => return e,
        }
    }
}

/// Validates an Ignition 3.3.0, 3.4.0 or 3.5.0 config: JSON syntax (with line
/// and column), structure (unknown keys, types), and Ignition's semantic rules
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
        .and_then(translate::ignition_level)
    else {
        let message = match version {
            None => "config version not specified".to_string(),
            Some(v) => {
                format!("unsupported config version {v} (labrun validates 3.3.0, 3.4.0 and 3.5.0)")
            }
        };
        return Err(Error::new("$.ignition.version", None, message));
    };
    let defaults = Options::default();
    let mut walker = Walker::new(Dialect::Ignition, level, &defaults);
    walker.root(&Node::from_json(&value));
    let mut report = std::mem::take(&mut walker.report);
    if !report.has_errors() {
        validate::check(&value, &mut report);
    }
    report.finish(true).map(drop)
}

/// Compact JSON with keys in the order they were built: deterministic.
pub fn to_json_string(v: &Value) -> String {
    v.to_string()
}

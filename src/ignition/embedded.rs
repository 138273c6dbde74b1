//! Merged and replacing configs given inline, checked as the official tool
//! checks them: against the Ignition spec of the config being translated.

use serde_json::Value;

use super::Options;
use super::error::{Error, Phase, Report};
use super::schema::Dialect;
use super::spec::{Level, ignition_version};
use super::translate::{Walker, is_semver};
use super::validate;
use super::yaml::Node;

/// What checking an embedded config found.
#[derive(Default)]
pub(crate) struct Found {
    /// Its version is another spec's: it is not checked.
    pub unknown_version: bool,
    /// It is not JSON of the spec's shape.
    pub unparsable: bool,
    /// Problems at the embedded config's own paths.
    pub entries: Vec<Error>,
}

/// Checks `raw`, an Ignition config embedded in a config at `level`.
pub(crate) fn check(raw: &str, level: Level) -> Found {
    let value: Value = match serde_json::from_str(raw) {
        Ok(v) => v,
        Err(e) => return unparsable(e.to_string()),
    };
    let opts = Options::default();
    let mut walker = Walker::new(Dialect::Ignition, level, &opts);
    let config = walker.root(&Node::from_json(&value)).unwrap_or_default();
    let mut decode = Vec::new();
    let mut unused = Vec::new();
    for e in walker.report.entries_mut() {
        match e.phase {
            Phase::Decode => decode.push(e.error.clone()),
            _ => unused.push(e.error.clone()),
        }
    }
    if let Some(first) = decode.into_iter().next() {
        return unparsable(format!("{}: {}", first.path, first.message));
    }
    let version = value
        .pointer("/ignition/version")
        .and_then(Value::as_str)
        .unwrap_or("");
    if is_semver(version) && version != ignition_version(level) {
        return Found {
            unknown_version: true,
            ..Found::default()
        };
    }
    let mut r = Report::default();
    if !is_semver(version) {
        r.output_error(
            "$.ignition.version",
            "invalid config version (couldn't parse)",
        );
    }
    validate::semantics(&config, level, &mut r);
    validate::duplicates(&config, level, &mut r);
    let mut entries = r.into_errors();
    entries.extend(unused);
    Found {
        entries,
        ..Found::default()
    }
}

fn unparsable(message: String) -> Found {
    Found {
        unparsable: true,
        entries: vec![Error::new("", None, message)],
        ..Found::default()
    }
}

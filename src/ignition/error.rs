//! The error type shared by translation and validation, and the report that
//! collects errors and warnings while a config is walked.

use std::fmt;

/// A 1-based position in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub line: usize,
    pub column: usize,
}

/// Whether an entry stops translation (error) or is only advice (warning).
/// In strict mode a warning is returned as an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A problem in a Butane or Ignition config, located by its JSON path
/// (`$.storage.files.0.mode`) and, for YAML input, by line and column (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Name of the source (file name, chunk name), when the caller gave one.
    pub source_name: Option<String>,
    /// JSON path in the input config; empty when the problem has no place in
    /// the tree (YAML syntax, unreadable JSON).
    pub path: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub severity: Severity,
}

impl Error {
    pub(crate) fn new(
        path: impl Into<String>,
        mark: Option<Mark>,
        message: impl Into<String>,
    ) -> Self {
        Error {
            source_name: None,
            path: path.into(),
            line: mark.map(|m| m.line),
            column: mark.map(|m| m.column),
            message: message.into(),
            severity: Severity::Error,
        }
    }

    pub(crate) fn with_source(mut self, source_name: &str) -> Self {
        if !source_name.is_empty() {
            self.source_name = Some(source_name.to_owned());
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.source_name {
            write!(f, "{name}: ")?;
        }
        f.write_str(match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })?;
        let mut place = Vec::new();
        if !self.path.is_empty() {
            place.push(self.path.clone());
        }
        if let Some(line) = self.line {
            match self.column {
                Some(col) => place.push(format!("line {line} col {col}")),
                None => place.push(format!("line {line}")),
            }
        }
        if !place.is_empty() {
            write!(f, " at {}", place.join(", "))?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for Error {}

/// When a problem is found, in the order the official tool finds them: a
/// report's first error is the one of the earliest phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    /// The YAML does not fit the schema's types (the first by position wins).
    Decode,
    /// Keys the schema does not know.
    Unused,
    /// Checks of the Butane config itself.
    Source,
    /// Reading local files, trees, desugaring.
    Translate,
    /// Checks of the Ignition config produced.
    Output,
}

/// One entry of a [`Report`].
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub error: Error,
    pub phase: Phase,
    /// The path is a path in the Ignition output, to be mapped back to the
    /// source before the entry is shown.
    pub in_output: bool,
    /// For decode errors, the position go-yaml met the problem at: it decodes
    /// in document order, checking a mapping's keys before its values.
    pub decoded_at: Option<Mark>,
}

/// Errors and warnings with the phase they were found in.
#[derive(Debug, Default)]
pub(crate) struct Report {
    entries: Vec<Entry>,
    /// Phase of the entries added by `error` and `warn`.
    pub phase: Option<Phase>,
}

impl Report {
    fn add(&mut self, e: Error, in_output: bool) {
        let phase = self.phase.unwrap_or(Phase::Source);
        self.entries.push(Entry {
            error: e,
            phase,
            in_output,
            decoded_at: None,
        });
    }

    pub fn error(&mut self, path: &str, mark: Option<Mark>, message: impl Into<String>) {
        self.add(Error::new(path, mark, message), false);
    }

    pub fn warn(&mut self, path: &str, mark: Option<Mark>, message: impl Into<String>) {
        let mut e = Error::new(path, mark, message);
        e.severity = Severity::Warning;
        self.add(e, false);
    }

    /// An entry found elsewhere, added in the current phase.
    pub fn push(&mut self, e: Error) {
        self.add(e, false);
    }

    /// An error at a path of the Ignition output.
    pub fn output_error(&mut self, path: &str, message: impl Into<String>) {
        self.add(Error::new(path, None, message), true);
    }

    /// A warning at a path of the Ignition output.
    pub fn output_warn(&mut self, path: &str, message: impl Into<String>) {
        let mut e = Error::new(path, None, message);
        e.severity = Severity::Warning;
        self.add(e, true);
    }

    /// An error found while decoding, shown at `mark`, met at `decoded_at`.
    pub fn decode_error(
        &mut self,
        path: &str,
        mark: Option<Mark>,
        decoded_at: Option<Mark>,
        message: impl Into<String>,
    ) {
        self.entries.push(Entry {
            error: Error::new(path, mark, message),
            phase: Phase::Decode,
            in_output: false,
            decoded_at,
        });
    }

    pub fn has_errors(&self) -> bool {
        self.entries
            .iter()
            .any(|e| e.error.severity == Severity::Error)
    }

    pub fn entries_mut(&mut self) -> &mut [Entry] {
        &mut self.entries
    }

    pub fn into_errors(self) -> Vec<Error> {
        self.entries.into_iter().map(|e| e.error).collect()
    }

    /// The first error (by phase; decode errors in decoding order), or in strict
    /// mode the first warning promoted to an error; otherwise the warnings.
    pub fn finish(mut self, strict: bool) -> Result<Vec<Error>, Error> {
        self.entries.sort_by_key(|e| e.phase);
        let first_error = self
            .entries
            .iter()
            .filter(|e| e.error.severity == Severity::Error)
            .min_by_key(|e| (e.phase, e.decoded_at.map(|m| (m.line, m.column))));
        if let Some(e) = first_error {
            return Err(e.error.clone());
        }
        let warnings = self.into_errors();
        if !strict {
            return Ok(warnings);
        }
        match warnings.into_iter().next() {
            Some(mut w) => {
                w.severity = Severity::Error;
                w.message.push_str(" (warnings are errors in strict mode)");
                Err(w)
            }
            None => Ok(Vec::new()),
        }
    }
}

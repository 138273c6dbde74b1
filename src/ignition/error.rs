//! The error type shared by translation and validation, and the report that
//! collects errors and warnings while a config is walked.

use std::fmt;

use super::yaml::Mark;

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

/// Errors and warnings in the order they were found.
#[derive(Debug, Default)]
pub(crate) struct Report {
    entries: Vec<Error>,
}

impl Report {
    pub fn error(&mut self, path: &str, mark: Option<Mark>, message: impl Into<String>) {
        self.entries.push(Error::new(path, mark, message));
    }

    pub fn warn(&mut self, path: &str, mark: Option<Mark>, message: impl Into<String>) {
        let mut e = Error::new(path, mark, message);
        e.severity = Severity::Warning;
        self.entries.push(e);
    }

    pub fn push(&mut self, e: Error) {
        self.entries.push(e);
    }

    pub fn has_errors(&self) -> bool {
        self.entries.iter().any(|e| e.severity == Severity::Error)
    }

    pub fn into_entries(self) -> Vec<Error> {
        self.entries
    }

    /// The first error, or in strict mode the first warning promoted to an
    /// error; otherwise the warnings.
    pub fn finish(self, strict: bool) -> Result<Vec<Error>, Error> {
        if let Some(e) = self.entries.iter().find(|e| e.severity == Severity::Error) {
            return Err(e.clone());
        }
        if !strict {
            return Ok(self.entries);
        }
        match self.entries.into_iter().next() {
            Some(mut w) => {
                w.severity = Severity::Error;
                w.message.push_str(" (warnings are errors in strict mode)");
                Err(w)
            }
            None => Ok(Vec::new()),
        }
    }
}

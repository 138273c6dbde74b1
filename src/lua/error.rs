//! Script errors: a `file:line: message` first line and a short traceback.

use std::fmt;

/// A lab script could not be loaded: bad syntax, a runtime error, or an
/// invalid declaration. Nothing was created.
#[derive(Debug)]
pub struct ScriptError {
    pub message: String,
    pub traceback: Option<String>,
}

impl std::error::Error for ScriptError {}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(tb) = &self.traceback {
            write!(f, "\n{tb}")?;
        }
        Ok(())
    }
}

impl ScriptError {
    /// An error with no traceback.
    pub fn plain(message: impl Into<String>) -> ScriptError {
        ScriptError {
            message: message.into(),
            traceback: None,
        }
    }
}

/// Keeps the frames a user can act on: Lua frames in scripts, not the
/// host's C frames.
fn trim_traceback(tb: &str) -> Option<String> {
    let frames: Vec<&str> = tb
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty()
                && *l != "stack traceback:"
                && !l.starts_with("[C]")
                && !l.starts_with("[string")
        })
        .take(8)
        .collect();
    (!frames.is_empty()).then(|| {
        format!(
            "stack traceback:\n{}",
            frames
                .iter()
                .map(|l| format!("  {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

impl From<mlua::Error> for ScriptError {
    fn from(e: mlua::Error) -> ScriptError {
        let mut traceback = None;
        let mut err = &e;
        loop {
            match err {
                mlua::Error::CallbackError {
                    traceback: tb,
                    cause,
                } => {
                    traceback.get_or_insert_with(|| tb.clone());
                    err = cause;
                }
                mlua::Error::WithContext { cause, .. } => err = cause,
                _ => break,
            }
        }
        let text = match err {
            mlua::Error::SyntaxError { message, .. } => message.clone(),
            mlua::Error::RuntimeError(m) => m.clone(),
            mlua::Error::ExternalError(x) => x.to_string(),
            other => other.to_string(),
        };
        // Lua runtime errors carry their traceback inside the message.
        let (message, inline_tb) = match text.split_once("\nstack traceback:") {
            Some((m, tb)) => (m.to_string(), Some(tb.to_string())),
            None => (text, None),
        };
        let traceback = inline_tb.or(traceback).and_then(|tb| trim_traceback(&tb));
        ScriptError { message, traceback }
    }
}

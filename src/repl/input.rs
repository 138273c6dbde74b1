//! Reading input: a chunk Lua says is incomplete keeps the editor open for
//! more lines, and Tab completes globals, table fields and methods (after
//! `.` and `:`) from the live Lua state.

use super::pretty::is_identifier;
use mlua::{Lua, ObjectLike, Table, Value};
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

/// How a piece of input compiles.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk {
    /// An expression, or statements: ready to run.
    Complete,
    /// Lua wants more (an open `function`, `{`, string...).
    Incomplete,
    /// A syntax error: run it to see the message.
    Invalid,
}

/// The code to run for a line: `=expr` and bare expressions return their
/// value; anything else runs as statements.
pub fn code_of(compiler: &Lua, input: &str) -> String {
    let expr = input.strip_prefix('=').unwrap_or(input);
    let as_return = format!("return {expr}");
    if input.starts_with('=') || compiles(compiler, &as_return).is_ok() {
        as_return
    } else {
        input.to_string()
    }
}

fn compiles(lua: &Lua, code: &str) -> mlua::Result<()> {
    lua.load(code)
        .set_name("=stdin")
        .into_function()
        .map(|_| ())
}

/// Whether `input` is a whole chunk.
pub fn classify(compiler: &Lua, input: &str) -> Chunk {
    if input.trim_start().starts_with(':') {
        return Chunk::Complete;
    }
    let expr = input.strip_prefix('=').unwrap_or(input);
    let as_return = compiles(compiler, &format!("return {expr}"));
    let as_statements = compiles(compiler, input);
    let incomplete = |r: &mlua::Result<()>| {
        matches!(
            r,
            Err(mlua::Error::SyntaxError {
                incomplete_input: true,
                ..
            })
        )
    };
    if as_return.is_ok() || as_statements.is_ok() {
        Chunk::Complete
    } else if incomplete(&as_return) || incomplete(&as_statements) {
        Chunk::Incomplete
    } else {
        Chunk::Invalid
    }
}

/// The REPL's editor helper.
pub struct ReplHelper {
    /// The state whose globals are completed.
    pub lua: Lua,
    /// A state of its own that only compiles (to tell incomplete input).
    compiler: Lua,
}

impl ReplHelper {
    /// A helper completing from `lua`'s globals.
    pub fn new(lua: Lua) -> ReplHelper {
        ReplHelper {
            lua,
            compiler: Lua::new(),
        }
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(match classify(&self.compiler, ctx.input()) {
            Chunk::Incomplete => ValidationResult::Incomplete,
            _ => ValidationResult::Valid(None),
        })
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {}

impl Helper for ReplHelper {}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        Ok(complete(&self.lua, &line[..pos]))
    }
}

/// The REPL's commands, completed after `:`.
pub const COMMANDS: &[&str] = &["help", "reload", "plan", "up", "down", "status", "quit"];

/// One step of the path before the cursor.
#[derive(Debug, PartialEq)]
enum Step {
    Name(String),
    Key(String),
}

/// What the cursor is completing.
#[derive(Debug, PartialEq)]
struct Target {
    /// Where the replaced text starts.
    start: usize,
    /// The values walked to before the last separator.
    path: Vec<Step>,
    /// `.`, `:`, `[` (inside `["...`), or none for a global.
    sep: Option<char>,
    /// The part already typed.
    partial: String,
}

/// Parses the end of `before` (text up to the cursor) into a path.
fn target(before: &str) -> Option<Target> {
    let bytes = before.as_bytes();
    // An open `["partial` at the end.
    let (open_key, scan_end) = match before.rfind("[\"") {
        Some(at) if !before[at + 2..].contains('"') => (Some(at), at),
        _ => (None, before.len()),
    };
    // Walk back over the path: names, dots, colons, and ["..."] keys.
    let mut start = scan_end;
    while start > 0 {
        let c = bytes[start - 1];
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b':' {
            start -= 1;
        } else if c == b']' {
            let open = before[..start].rfind("[\"")?;
            start = open;
        } else {
            break;
        }
    }
    let expr = &before[start..scan_end];
    let mut path = Vec::new();
    let mut rest = expr;
    let mut seps = Vec::new();
    loop {
        let name_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if name_len > 0 {
            path.push(Step::Name(rest[..name_len].to_string()));
            rest = &rest[name_len..];
        }
        if rest.is_empty() {
            break;
        }
        if let Some(r) = rest.strip_prefix("[\"") {
            let end = r.find("\"]")?;
            path.push(Step::Key(r[..end].to_string()));
            rest = &r[end + 2..];
            continue;
        }
        let sep = rest.chars().next()?;
        if sep != '.' && sep != ':' {
            return None;
        }
        seps.push((sep, path.len()));
        rest = &rest[1..];
        if rest.is_empty() {
            path.push(Step::Name(String::new()));
            break;
        }
    }
    if let Some(at) = open_key {
        return Some(Target {
            start: at,
            path,
            sep: Some('['),
            partial: before[at + 2..].to_string(),
        });
    }
    // The last step is the partial name; what comes before it is the path.
    let partial = match path.pop() {
        Some(Step::Name(n)) => n,
        Some(Step::Key(_)) | None => String::new(),
    };
    let sep = seps
        .last()
        .filter(|(_, n)| *n == path.len())
        .map(|(c, _)| *c);
    if sep.is_none() && !path.is_empty() {
        return None;
    }
    Some(Target {
        start: before.len() - partial.len(),
        path,
        sep,
        partial,
    })
}

/// The keys of a table and of the tables its metatable's `__index` chains
/// to (methods of a class), or the methods of a userdata.
fn keys(v: &Value) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut table = match v {
        Value::Table(t) => Some(t.clone()),
        Value::UserData(ud) => {
            if let Ok(mt) = ud.metatable() {
                for pair in mt.pairs::<Value>() {
                    let Ok((name, value)) = pair else { continue };
                    if !name.starts_with("__") {
                        out.push((name, matches!(value, Value::Function(_))));
                    }
                }
                if let Ok(Value::Table(index)) = mt.get::<Value>("__index") {
                    Some(index)
                } else {
                    None
                }
            } else {
                None
            }
        }
        _ => None,
    };
    let mut hops = 0;
    while let Some(t) = table.take() {
        for (k, v) in t.pairs::<Value, Value>().filter_map(Result::ok) {
            if let Value::String(s) = k {
                out.push((s.to_string_lossy(), matches!(v, Value::Function(_))));
            }
        }
        hops += 1;
        table = t
            .metatable()
            .and_then(|m| m.raw_get::<Option<Table>>("__index").ok().flatten())
            .filter(|_| hops < 8);
    }
    out.sort();
    out.dedup();
    out
}

/// Completions for the text before the cursor: (start, candidates).
pub fn complete(lua: &Lua, before: &str) -> (usize, Vec<Pair>) {
    if let Some(cmd) = before.strip_prefix(':') {
        let found = COMMANDS
            .iter()
            .filter(|c| c.starts_with(cmd))
            .map(|c| Pair {
                display: c.to_string(),
                replacement: c.to_string(),
            })
            .collect();
        return (1, found);
    }
    let Some(t) = target(before) else {
        return (before.len(), Vec::new());
    };
    let mut value = Value::Table(lua.globals());
    for step in &t.path {
        let key = match step {
            Step::Name(n) | Step::Key(n) => n.as_str(),
        };
        value = match &value {
            Value::Table(tb) => tb.get::<Value>(key).unwrap_or(Value::Nil),
            Value::UserData(ud) => ud.get::<Value>(key).unwrap_or(Value::Nil),
            _ => Value::Nil,
        };
    }
    let mut candidates = Vec::new();
    let mut start = t.start;
    for (name, is_function) in keys(&value) {
        if !name.starts_with(&t.partial) || (t.sep == Some(':') && !is_function) {
            continue;
        }
        let pair = match t.sep {
            Some('[') => Pair {
                display: name.clone(),
                replacement: format!("[\"{name}\"]"),
            },
            Some('.') if !is_identifier(&name) => {
                // `lab.resources.vpc` → `lab.resources["vpc.lab"]`
                start = t.start - 1;
                Pair {
                    display: name.clone(),
                    replacement: format!("[\"{name}\"]"),
                }
            }
            _ => Pair {
                display: name.clone(),
                replacement: name,
            },
        };
        candidates.push(pair);
    }
    (start, candidates)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(lua: &Lua, before: &str) -> (usize, Vec<String>) {
        let (start, found) = complete(lua, before);
        (start, found.into_iter().map(|p| p.replacement).collect())
    }

    #[test]
    fn incomplete_chunks_wait_for_more_lines() {
        let lua = Lua::new();
        assert_eq!(classify(&lua, "function f(a)"), Chunk::Incomplete);
        assert_eq!(
            classify(&lua, "function f(a)\n return a\nend"),
            Chunk::Complete
        );
        assert_eq!(classify(&lua, "{ 1, 2"), Chunk::Incomplete);
        assert_eq!(classify(&lua, "1 +"), Chunk::Incomplete);
        assert_eq!(classify(&lua, "x = = 1"), Chunk::Invalid);
        assert_eq!(classify(&lua, ":reload"), Chunk::Complete);
        assert_eq!(code_of(&lua, "1 + 2"), "return 1 + 2");
        assert_eq!(code_of(&lua, "=x"), "return x");
        assert_eq!(code_of(&lua, "x = 1"), "x = 1");
    }

    #[test]
    fn completes_globals_fields_methods_and_keys() {
        let lua = Lua::new();
        lua.load(
            r#"lab = { resources = { ["vpc.lab"] = {} }, region = "x" }
               obj = setmetatable({}, { __index = { run = function() end, size = 1 } })"#,
        )
        .exec()
        .unwrap();
        assert_eq!(names(&lua, "lab.res"), (4, vec!["resources".into()]));
        assert_eq!(names(&lua, "x = la").1, vec!["lab".to_string()]);
        assert_eq!(names(&lua, "obj:r"), (4, vec!["run".into()]));
        assert_eq!(names(&lua, "obj:s").1, Vec::<String>::new());
        assert_eq!(
            names(&lua, "lab.resources.v"),
            (13, vec!["[\"vpc.lab\"]".into()])
        );
        assert_eq!(
            names(&lua, "lab.resources[\"vp"),
            (13, vec!["[\"vpc.lab\"]".into()])
        );
        assert_eq!(names(&lua, "string.up").1, vec!["upper".to_string()]);
        assert_eq!(names(&lua, ":re"), (1, vec!["reload".into()]));
    }
}

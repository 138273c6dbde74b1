//! A YAML (or JSON) document as a tree whose nodes remember where they were
//! written, so errors can name a line and column.
//!
//! Scalars keep their text and whether they were plain (unquoted): the type
//! is resolved only when the schema asks for one, as go-yaml does for Butane
//! (`0644` is the integer 420 for `mode` but the string "0644" for `inline`).

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle, Span};
use serde_json::Value;

use super::error::Error;
pub use super::error::Mark;

/// The position of a parsed span's start.
fn mark_of(span: &Span) -> Mark {
    mark_at(&span.start)
}

/// A parser's position, 1-based.
fn mark_at(marker: &granit_parser::Marker) -> Mark {
    Mark {
        line: marker.line(),
        column: marker.col() + 1,
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: Kind,
    pub mark: Option<Mark>,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Null,
    Scalar { text: String, plain: bool },
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub name: String,
    pub mark: Option<Mark>,
}

impl Node {
    fn new(kind: Kind, mark: Option<Mark>) -> Node {
        Node { kind, mark }
    }

    /// The value of `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Any scalar as text (go-yaml decodes every scalar into a string field).
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// A plain scalar read as Go's `strconv.ParseInt(s, 0, 64)` reads it:
    /// decimal, `0x`, `0o`, `0b`, and a leading `0` for octal.
    pub fn as_int(&self) -> Option<i64> {
        match &self.kind {
            Kind::Scalar { text, plain: true } => parse_go_int(text),
            _ => None,
        }
    }

    /// A plain boolean, YAML 1.2 spellings plus the YAML 1.1 ones go-yaml
    /// still accepts for boolean fields.
    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            Kind::Scalar { text, plain: true } => match text.as_str() {
                "true" | "True" | "TRUE" | "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On"
                | "ON" => Some(true),
                "false" | "False" | "FALSE" | "n" | "N" | "no" | "No" | "NO" | "off" | "Off"
                | "OFF" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// The number of nodes in this tree.
    fn size(&self) -> usize {
        1 + match &self.kind {
            Kind::Seq(items) => items.iter().map(Node::size).sum(),
            Kind::Map(entries) => entries.iter().map(|(_, v)| 1 + v.size()).sum(),
            _ => 0,
        }
    }

    /// A short description of the node's type for error messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Null => "null".into(),
            Kind::Scalar { text, plain } => {
                let shown: String = text.chars().take(40).collect();
                let ellipsis = if shown.len() < text.len() { "…" } else { "" };
                if *plain {
                    format!("`{shown}{ellipsis}`")
                } else {
                    format!("string \"{shown}{ellipsis}\"")
                }
            }
            Kind::Seq(_) => "a sequence".into(),
            Kind::Map(_) => "a mapping".into(),
        }
    }

    /// A tree from JSON (e.g. a Lua table): no positions; strings are quoted
    /// scalars, numbers and booleans plain ones.
    pub fn from_json(v: &Value) -> Node {
        let kind = match v {
            Value::Null => Kind::Null,
            Value::Bool(b) => Kind::Scalar {
                text: b.to_string(),
                plain: true,
            },
            Value::Number(n) => Kind::Scalar {
                text: n.to_string(),
                plain: true,
            },
            Value::String(s) => Kind::Scalar {
                text: s.clone(),
                plain: false,
            },
            Value::Array(items) => Kind::Seq(items.iter().map(Node::from_json).collect()),
            Value::Object(map) => Kind::Map(
                map.iter()
                    .map(|(k, v)| {
                        let key = Key {
                            name: k.clone(),
                            mark: None,
                        };
                        (key, Node::from_json(v))
                    })
                    .collect(),
            ),
        };
        Node::new(kind, None)
    }
}

fn parse_go_int(text: &str) -> Option<i64> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    // Go allows `_` only between digits (or after a base prefix).
    if digits.starts_with('_') && !prefixed || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(&digits, radix).ok()?;
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

/// The most nodes that aliases may add to a document.
const MAX_ALIAS_NODES: usize = 100_000;

/// An open collection while events are folded into a tree.
enum Open {
    Seq {
        mark: Mark,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        mark: Mark,
        anchor: usize,
        entries: Vec<(Key, Node)>,
        key: Option<Key>,
    },
}

/// Parses the first YAML document of `src`. Syntax errors carry the line and
/// column of the problem; the message names the collection it was found in.
pub(crate) fn parse(src: &str) -> Result<Node, Error> {
    let mut stack: Vec<Open> = Vec::new();
    // Anchored nodes with their sizes: aliases are expanded, so their total
    // is bounded to stop "billion laughs" documents.
    let mut anchors: HashMap<usize, (Node, usize)> = HashMap::new();
    let mut expanded = 0usize;
    let mut root: Option<Node> = None;
    let mut prev_end = 0usize;
    let mut prev_end_mark = Mark { line: 1, column: 1 };
    for item in Parser::new_from_str(src) {
        let (event, span) = item.map_err(|e| syntax_error(&e, &stack))?;
        let mut mark = mark_of(&span);
        match &event {
            Event::Scalar(_, ScalarStyle::Literal | ScalarStyle::Folded, ..) => {
                mark = block_indicator(src, prev_end, prev_end_mark).unwrap_or(mark);
            }
            // go-yaml places an empty value just after its `:` or `-`.
            Event::Scalar(_, ScalarStyle::Plain, ..)
                if span.start.index() == span.end.index()
                    && matches!(
                        src.get(byte_offset(src, &span.start)..)
                            .and_then(|r| r.chars().next()),
                        Some(':' | '-')
                    ) =>
            {
                mark.column += 1;
            }
            _ => {}
        }
        prev_end = byte_offset(src, &span.end);
        prev_end_mark = mark_at(&span.end);
        let (node, anchor) = match event {
            Event::DocumentEnd if root.is_some() => break,
            Event::SequenceStart(_, anchor, tag) => {
                check_tag(tag.as_deref(), "seq", mark)?;
                stack.push(Open::Seq {
                    mark,
                    anchor,
                    items: Vec::new(),
                });
                continue;
            }
            Event::MappingStart(_, anchor, tag) => {
                check_tag(tag.as_deref(), "map", mark)?;
                stack.push(Open::Map {
                    mark,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Open::Seq {
                    mark,
                    anchor,
                    items,
                }) => (Node::new(Kind::Seq(items), Some(mark)), anchor),
                Some(Open::Map {
                    mark,
                    anchor,
                    entries,
                    ..
                }) => (Node::new(Kind::Map(entries), Some(mark)), anchor),
                None => continue,
            },
            Event::Scalar(text, style, anchor, tag) => {
                let mut text = text.into_owned();
                // A block scalar whose last line has no line break (the end of
                // the input) has none to keep.
                let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                if block && !src.ends_with('\n') && prev_end >= src.len() && text.ends_with('\n') {
                    text.pop();
                }
                (scalar(text, style, tag.as_deref(), mark)?, anchor)
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some((n, size)) => {
                    expanded += size;
                    if expanded > MAX_ALIAS_NODES {
                        return Err(Error::new(
                            "",
                            Some(mark),
                            "too many nodes from YAML aliases",
                        ));
                    }
                    (n.clone(), 0)
                }
                None => return Err(Error::new("", Some(mark), "unknown anchor")),
            },
            _ => continue,
        };
        if anchor != 0 {
            anchors.insert(anchor, (node.clone(), node.size()));
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Open::Seq { items, .. }) => items.push(node),
            Some(Open::Map { entries, key, .. }) => match key.take() {
                None => {
                    let name = match node.kind {
                        Kind::Scalar { text, .. } => text,
                        Kind::Null => String::new(),
                        _ => return Err(Error::new("", node.mark, "mapping keys must be scalars")),
                    };
                    *key = Some(Key {
                        name,
                        mark: node.mark,
                    });
                }
                Some(k) => entries.push((k, node)),
            },
        }
    }
    Ok(root.unwrap_or(Node::new(Kind::Null, Some(Mark { line: 1, column: 1 }))))
}

/// The byte offset of a marker in `src`.
fn byte_offset(src: &str, marker: &granit_parser::Marker) -> usize {
    marker.byte_offset().unwrap_or_else(|| {
        src.char_indices()
            .nth(marker.index())
            .map_or(src.len(), |(i, _)| i)
    })
}

/// The position of the `|` or `>` that starts a block scalar, the first one
/// after `from` (the end of the previous event, at `at`) outside comments,
/// tags and anchors: go-yaml places a block scalar there, not at its first
/// line.
fn block_indicator(src: &str, from: usize, at: Mark) -> Option<Mark> {
    let Mark {
        mut line,
        mut column,
    } = at;
    let mut chars = src.get(from..)?.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '|' | '>' => return Some(Mark { line, column }),
            '\n' => {
                line += 1;
                column = 1;
                continue;
            }
            '#' | '!' | '&' => {
                let comment = c == '#';
                while let Some(&n) = chars.peek() {
                    if n == '\n' || (!comment && n.is_whitespace()) {
                        break;
                    }
                    chars.next();
                    column += 1;
                }
            }
            c if c.is_whitespace() || matches!(c, ':' | '-' | '?' | ',' | '[' | '{') => {}
            _ => return None,
        }
        column += 1;
    }
    None
}

fn scalar(
    text: String,
    style: ScalarStyle,
    tag: Option<&granit_parser::Tag>,
    mark: Mark,
) -> Result<Node, Error> {
    let core = tag.map(|t| {
        if t.handle() == "tag:yaml.org,2002:" {
            t.suffix().to_owned()
        } else {
            format!("{}{}", t.handle(), t.suffix())
        }
    });
    let plain = match core.as_deref() {
        None => style == ScalarStyle::Plain,
        Some("str") => false,
        Some("int" | "bool" | "null") => true,
        Some(other) => {
            return Err(Error::new(
                "",
                Some(mark),
                format!("unsupported YAML tag !!{other}"),
            ));
        }
    };
    let is_null = plain && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL");
    let kind = if is_null {
        Kind::Null
    } else {
        Kind::Scalar { text, plain }
    };
    Ok(Node::new(kind, Some(mark)))
}

fn check_tag(tag: Option<&granit_parser::Tag>, expected: &str, mark: Mark) -> Result<(), Error> {
    match tag {
        Some(t) if !(t.handle() == "tag:yaml.org,2002:" && t.suffix() == expected) => {
            Err(Error::new(
                "",
                Some(mark),
                format!("unsupported YAML tag {}{}", t.handle(), t.suffix()),
            ))
        }
        _ => Ok(()),
    }
}

fn syntax_error(e: &granit_parser::ScanError, stack: &[Open]) -> Error {
    let m = e.marker();
    let mark = Mark {
        line: m.line(),
        column: m.col() + 1,
    };
    let mut message = format!(
        "YAML syntax: {}",
        e.info().lines().next().unwrap_or_default()
    );
    if let Some(open) = stack.last() {
        let (what, at) = match open {
            Open::Seq { mark, .. } => ("sequence", mark),
            Open::Map { mark, .. } => ("mapping", mark),
        };
        message.push_str(&format!(
            " (in the {what} started at line {} col {})",
            at.line, at.column
        ));
    }
    Error::new("", Some(mark), message)
}

//! Showing Lua values: nested tables indented up to a depth, strings
//! quoted, and a lab's resources as `vpc.lab vpc-0abc… (10.10.16.0/20)`
//! with their live attributes.

use crate::lua::values::{AttrRef, Handle};
use mlua::{Table, Value};
use serde_json::Value as Json;
use std::collections::HashSet;

/// Tables nested deeper than this show as `{…}`.
const MAX_DEPTH: usize = 4;
/// A table fits on one line up to this width.
const LINE: usize = 72;
/// The metatable name of a resource in `lab.resources`.
pub const RESOURCE: &str = "labrun.resource";

/// Attributes that say the most about a resource, in order of preference.
const SUMMARY: &[&str] = &["cidr", "private_ip", "public_ip", "dns_name", "key_name"];

/// What the printer knows of the lab: every resource's live attributes
/// (`id` included) by address.
#[derive(Default)]
pub struct Live<'a> {
    pub attrs: Option<&'a serde_json::Map<String, Json>>,
}

impl Live<'_> {
    fn attrs(&self, address: &str) -> Option<&serde_json::Map<String, Json>> {
        self.attrs?.get(address)?.as_object()
    }
}

/// `vpc.lab vpc-0abc (10.10.16.0/20)`: a resource with its ID and most
/// telling attribute, from its live attributes.
pub fn headline(address: &str, attrs: Option<&serde_json::Map<String, Json>>) -> String {
    let Some(attrs) = attrs else {
        return format!("{address} (not created)");
    };
    let id = attrs.get("id").and_then(Json::as_str).unwrap_or("-");
    let summary = SUMMARY.iter().find_map(|k| {
        attrs
            .get(*k)
            .and_then(Json::as_str)
            .filter(|v| !v.is_empty())
    });
    match summary {
        Some(s) => format!("{address} {id} ({s})"),
        None => format!("{address} {id}"),
    }
}

/// A Lua string literal for `s`.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\{}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `s` can follow a `.` in Lua.
pub fn is_identifier(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// One value, as the REPL shows it.
pub fn show(v: &Value, live: &Live<'_>) -> String {
    Printer {
        live,
        seen: HashSet::new(),
    }
    .value(v, 0)
}

struct Printer<'a, 'b> {
    live: &'a Live<'b>,
    /// Tables being printed (a table inside itself shows as `<cycle>`).
    seen: HashSet<usize>,
}

impl Printer<'_, '_> {
    fn value(&mut self, v: &Value, depth: usize) -> String {
        match v {
            Value::Nil => "nil".into(),
            Value::Boolean(b) => b.to_string(),
            Value::Integer(i) => i.to_string(),
            Value::Number(n) => format!("{n:?}"),
            Value::String(s) => quote(&s.to_string_lossy()),
            Value::Table(t) => self.table(t, depth),
            Value::Function(f) => {
                let info = f.info();
                match (info.short_src, info.line_defined) {
                    (Some(src), Some(line)) if line > 0 => format!("<function {src}:{line}>"),
                    _ => "<function builtin>".into(),
                }
            }
            Value::UserData(ud) => {
                if let Ok(h) = ud.borrow::<Handle>() {
                    let address = h.address();
                    return headline(&address, self.live.attrs(&address));
                }
                if let Ok(r) = ud.borrow::<AttrRef>() {
                    let known = (self.live.attrs(&r.0.address))
                        .and_then(|a| a.get(&r.0.attr))
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), quote));
                    return format!("{} = {}", r.0, known.unwrap_or("<not known yet>".into()));
                }
                let shown = mlua::ObjectLike::to_string(ud).unwrap_or_else(|_| "userdata".into());
                format!("<{shown}>")
            }
            other => format!("<{}>", other.type_name()),
        }
    }

    fn table(&mut self, t: &Table, depth: usize) -> String {
        let resource = t
            .metatable()
            .and_then(|m| m.raw_get::<Option<String>>("__name").ok().flatten())
            .is_some_and(|n| n == RESOURCE);
        let head = if resource {
            let address: String = t
                .metatable()
                .and_then(|m| m.raw_get("address").ok())
                .unwrap_or_default();
            Some(headline(&address, self.live.attrs(&address)))
        } else {
            None
        };
        let key = t.to_pointer() as usize;
        if self.seen.contains(&key) {
            return "<cycle>".into();
        }
        if depth >= MAX_DEPTH {
            return head.unwrap_or_else(|| "{…}".into());
        }
        let entries = self.entries(t, key, depth);
        let body = if entries.is_empty() {
            "{}".to_string()
        } else {
            let one_line = format!("{{ {} }}", entries.join(", "));
            if one_line.len() + depth * 2 <= LINE && !one_line.contains('\n') {
                one_line
            } else {
                let pad = "  ".repeat(depth + 1);
                let inner: Vec<String> = entries.iter().map(|e| format!("{pad}{e},")).collect();
                format!("{{\n{}\n{}}}", inner.join("\n"), "  ".repeat(depth))
            }
        };
        match head {
            Some(h) => format!("{h} {body}"),
            None => body,
        }
    }

    /// `key = value` strings: the sequence first, then the other keys sorted.
    fn entries(&mut self, t: &Table, key: usize, depth: usize) -> Vec<String> {
        self.seen.insert(key);
        let len = t.raw_len();
        let mut out: Vec<String> = (1..=len)
            .map(|i| {
                let v: Value = t.raw_get(i).unwrap_or(Value::Nil);
                self.value(&v, depth + 1)
            })
            .collect();
        let mut rest: Vec<(String, Value)> = t
            .pairs::<Value, Value>()
            .filter_map(Result::ok)
            .filter(|(k, _)| !matches!(k, Value::Integer(i) if *i >= 1 && (*i as usize) <= len))
            .map(|(k, v)| {
                let name = match &k {
                    Value::String(s) => {
                        let s = s.to_string_lossy();
                        if is_identifier(&s) {
                            s
                        } else {
                            format!("[{}]", quote(&s))
                        }
                    }
                    other => format!("[{}]", self.value(other, MAX_DEPTH)),
                };
                (name, v)
            })
            .collect();
        rest.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, v) in rest {
            let shown = self.value(&v, depth + 1);
            out.push(format!("{name} = {shown}"));
        }
        self.seen.remove(&key);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(code: &str) -> String {
        let lua = mlua::Lua::new();
        let v: Value = lua.load(code).eval().unwrap();
        show(&v, &Live::default())
    }

    #[test]
    fn short_tables_fit_on_a_line_with_the_sequence_first() {
        assert_eq!(
            shown(r#"{ 1, "two", z = true, a = 1.5, ["not id"] = 3 }"#),
            r#"{ 1, "two", ["not id"] = 3, a = 1.5, z = true }"#
        );
    }

    #[test]
    fn long_and_deep_tables_indent_and_stop_at_the_depth_limit() {
        let text =
            shown(r#"{ a = { b = { c = { d = { e = 1 } } } }, text = string.rep("x", 80) }"#);
        assert_eq!(
            text,
            format!(
                "{{\n  a = {{ b = {{ c = {{ d = {{…}} }} }} }},\n  text = \"{}\",\n}}",
                "x".repeat(80)
            )
        );
    }

    #[test]
    fn strings_are_quoted_and_cycles_named() {
        assert_eq!(shown(r#""a\n\"b\"""#), r#""a\n\"b\"""#);
        assert_eq!(
            shown("local t = {} t.self = t return t"),
            "{ self = <cycle> }"
        );
    }

    #[test]
    fn a_resource_shows_its_id_and_telling_attribute() {
        let attrs = serde_json::json!({ "id": "vpc-0abc", "cidr": "10.10.16.0/20" });
        assert_eq!(
            headline("vpc.lab", attrs.as_object()),
            "vpc.lab vpc-0abc (10.10.16.0/20)"
        );
        assert_eq!(headline("vpc.lab", None), "vpc.lab (not created)");
    }
}

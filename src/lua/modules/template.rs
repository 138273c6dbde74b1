//! `labrun.template(text, vars)`, `labrun.indent(n, text)` and
//! `labrun.file(path)`: building config files from templates.

use crate::lua::location;
use mlua::{Lua, Table};
use std::collections::HashMap;
use std::path::PathBuf;

/// The folder relative paths in `labrun.file` start from (the lab script's).
#[derive(Debug, Clone)]
pub struct ScriptDir(pub PathBuf);

/// Substitutes `${name}` with `vars[name]`; `$${` stands for a literal `${`.
/// An undefined name is an error naming it.
pub fn render(text: &str, vars: &HashMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        if rest[..i].ends_with('$') {
            out.push_str(&rest[..i]);
            out.push('{');
            rest = &rest[i + 2..];
            continue;
        }
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unclosed ${{ at byte {}", text.len() - rest.len() + i))?;
        let name = after[..end].trim();
        let value = vars
            .get(name)
            .ok_or_else(|| format!("template uses ${{{name}}}, which is not defined"))?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Indents every line but the first by `n` spaces (Terraform's `indent`).
pub fn indent(n: usize, text: &str) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 || l.is_empty() {
                l.to_string()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if text.ends_with('\n') { "\n" } else { "" }
}

/// Adds `labrun.template`, `labrun.indent` and `labrun.file`.
pub fn register(lua: &Lua, labrun: &Table) -> mlua::Result<()> {
    labrun.set(
        "template",
        lua.create_function(
            |lua, (text, vars): (String, HashMap<String, mlua::Value>)| {
                let vars = vars
                    .into_iter()
                    .map(|(k, v)| {
                        let s = match &v {
                            mlua::Value::String(s) => s.to_str()?.to_string(),
                            mlua::Value::Integer(i) => i.to_string(),
                            mlua::Value::Number(n) => n.to_string(),
                            mlua::Value::Boolean(b) => b.to_string(),
                            other => {
                                return Err(location::error(
                                    lua,
                                    format!(
                                        "template variable '{k}' is a {}, not text",
                                        other.type_name()
                                    ),
                                ));
                            }
                        };
                        Ok((k, s))
                    })
                    .collect::<mlua::Result<_>>()?;
                render(&text, &vars).map_err(|e| location::error(lua, e))
            },
        )?,
    )?;
    labrun.set(
        "indent",
        lua.create_function(|_, (n, text): (usize, String)| Ok(indent(n, &text)))?,
    )?;
    labrun.set(
        "file",
        lua.create_function(|lua, path: String| {
            let base = lua
                .app_data_ref::<ScriptDir>()
                .map(|d| d.0.clone())
                .unwrap_or_default();
            let full = base.join(&path);
            std::fs::read_to_string(&full)
                .map_err(|e| location::error(lua, format!("cannot read {}: {e}", full.display())))
        })?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_and_rejects_undefined_names() {
        let vars = HashMap::from([("host".to_string(), "gw".to_string())]);
        assert_eq!(
            render("name: ${host} $${literal}", &vars).unwrap(),
            "name: gw ${literal}"
        );
        assert_eq!(
            render("${ nope }", &vars).unwrap_err(),
            "template uses ${nope}, which is not defined"
        );
    }

    #[test]
    fn indents_following_lines() {
        assert_eq!(indent(2, "a\nb\n\nc\n"), "a\n  b\n\n  c\n");
    }
}

//! `labrun.template(text, vars)`, `labrun.indent(n, text)` and
//! `labrun.file(path)`: building config files from templates.

use crate::engine::value::Value;
use crate::lua::location;
use crate::lua::values::{Deferred, piece};
use mlua::{Lua, Table};
use std::collections::HashMap;
use std::path::PathBuf;

/// The folder relative paths in `labrun.file` start from (the lab script's).
#[derive(Debug, Clone)]
pub struct ScriptDir(pub PathBuf);

/// Substitutes `${name}` with `vars[name]`; `$${` stands for a literal `${`.
/// An undefined name is an error naming it. A value known only after apply
/// makes the whole text [`Deferred`].
pub fn render(text: &str, vars: &HashMap<String, Value>) -> Result<Deferred, String> {
    let mut out = Deferred::default();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        if rest[..i].ends_with('$') {
            out.push(Value::Str(format!("{}{{", &rest[..i])));
            rest = &rest[i + 2..];
            continue;
        }
        out.push(Value::Str(rest[..i].to_string()));
        let after = &rest[i + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unclosed ${{ at byte {}", text.len() - rest.len() + i))?;
        let name = after[..end].trim();
        let value = vars
            .get(name)
            .ok_or_else(|| format!("template uses ${{{name}}}, which is not defined"))?;
        out.push(value.clone());
        rest = &after[end + 1..];
    }
    out.push(Value::Str(rest.to_string()));
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
                            mlua::Value::Boolean(b) => Value::Str(b.to_string()),
                            mlua::Value::String(_)
                            | mlua::Value::Integer(_)
                            | mlua::Value::Number(_)
                            | mlua::Value::UserData(_) => piece(lua, &v)?,
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
                render(&text, &vars)
                    .map_err(|e| location::error(lua, e))?
                    .into_lua(lua)
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
        let vars = HashMap::from([("host".to_string(), Value::Str("gw".into()))]);
        assert_eq!(
            render("name: ${host} $${literal}", &vars).unwrap().0,
            [Value::Str("name: gw ${literal}".into())]
        );
        assert_eq!(
            render("${ nope }", &vars).unwrap_err(),
            "template uses ${nope}, which is not defined"
        );
    }

    #[test]
    fn a_value_known_after_apply_defers_the_text() {
        let ip = crate::engine::value::Ref {
            address: "elastic_ip.gw".into(),
            attr: "public_ip".into(),
        };
        let vars = HashMap::from([("ip".to_string(), Value::Ref(ip.clone()))]);
        assert_eq!(
            render("Endpoint = ${ip}:51820\n", &vars).unwrap().0,
            [
                Value::Str("Endpoint = ".into()),
                Value::Ref(ip),
                Value::Str(":51820\n".into())
            ]
        );
    }

    #[test]
    fn indents_following_lines() {
        assert_eq!(indent(2, "a\nb\n\nc\n"), "a\n  b\n\n  c\n");
    }
}

//! `lab:file(path, contents, { mode = "0600" })`: files a lab generates
//! (certificates, kubeconfigs, manifests), which `labrun render` writes
//! into a folder and `labrun up` into the lab's own.

use crate::engine::decl::Location;
use crate::engine::value::{Ref, Resolved, Value};
use crate::lua::convert::to_value;
use crate::lua::location;
use mlua::{Lua, Table};

/// What a file holds: bytes known now, or text known only after apply.
pub enum Contents {
    Bytes(Vec<u8>),
    /// A [`Value::Concat`] of text and references, resolved after apply.
    Deferred(Value),
}

/// One generated file. No `Debug`: its contents may be a private key.
pub struct LabFile {
    /// Relative path with `/` separators and no `.` or `..` parts.
    pub path: String,
    pub contents: Contents,
    /// Permission bits, e.g. `0o600`.
    pub mode: u32,
    pub location: Location,
}

/// The files declared so far in this load.
#[derive(Default)]
struct Declared(Vec<LabFile>);

impl LabFile {
    /// Its bytes, resolving what is known only after apply with `lookup`;
    /// `Err` names what is not known (yet).
    pub fn bytes(
        &self,
        lookup: &dyn Fn(&Ref) -> Option<serde_json::Value>,
    ) -> Result<Vec<u8>, String> {
        match &self.contents {
            Contents::Bytes(b) => Ok(b.clone()),
            Contents::Deferred(v) => match v.resolve(lookup) {
                Resolved::Known(serde_json::Value::String(s)) => Ok(s.into_bytes()),
                Resolved::Known(other) => Ok(other.to_string().into_bytes()),
                Resolved::Unknown => {
                    let mut missing = Vec::new();
                    v.visit_refs(&mut |r| {
                        if lookup(r).is_none() {
                            missing.push(r.to_string());
                        }
                    });
                    Err(format!(
                        "{} needs {}, not known yet",
                        self.path,
                        missing.join(", ")
                    ))
                }
            },
        }
    }
}

impl LabFile {
    /// Its bytes with whatever `lookup` does not know yet shown as
    /// `${address.attr}` (for `labrun render` of a lab that is not up).
    pub fn preview(&self, lookup: &dyn Fn(&Ref) -> Option<serde_json::Value>) -> Vec<u8> {
        let parts = match &self.contents {
            Contents::Bytes(b) => return b.clone(),
            Contents::Deferred(Value::Concat(parts)) => parts.clone(),
            Contents::Deferred(other) => vec![other.clone()],
        };
        let mut text = String::new();
        for part in parts {
            match part.resolve(lookup) {
                Resolved::Known(serde_json::Value::String(s)) => text.push_str(&s),
                Resolved::Known(other) => text.push_str(&other.to_string()),
                Resolved::Unknown => {
                    part.visit_refs(&mut |r| text.push_str(&format!("${{{r}}}")));
                }
            }
        }
        text.into_bytes()
    }
}

/// The files the script declared, in declaration order.
pub fn take(lua: &Lua) -> Vec<LabFile> {
    lua.remove_app_data::<Declared>()
        .map(|d| d.0)
        .unwrap_or_default()
}

/// Reads a mode: an octal string (`"0640"`) or a number.
fn mode(lua: &Lua, value: mlua::Value) -> mlua::Result<u32> {
    let mode = match &value {
        mlua::Value::String(s) => u32::from_str_radix(&s.to_str()?, 8).ok(),
        mlua::Value::Integer(n) => u32::try_from(*n).ok(),
        _ => None,
    };
    mode.filter(|m| *m <= 0o777).ok_or_else(|| {
        location::error(
            lua,
            format!(
                "lab:file: mode must be an octal string like \"0644\", got {}",
                value
                    .to_string()
                    .unwrap_or_else(|_| value.type_name().into())
            ),
        )
    })
}

fn check_path(lua: &Lua, path: &str) -> mlua::Result<()> {
    let ok = !path.is_empty()
        && !path.contains('\0')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    if ok {
        Ok(())
    } else {
        Err(location::error(
            lua,
            format!("lab:file: path {path:?} must be relative, without empty, . or .. parts"),
        ))
    }
}

/// Declares one file.
fn declare(
    lua: &Lua,
    path: String,
    contents: mlua::Value,
    opts: Option<Table>,
) -> mlua::Result<()> {
    check_path(lua, &path)?;
    let contents = match &contents {
        mlua::Value::String(s) => Contents::Bytes(s.as_bytes().to_vec()),
        mlua::Value::UserData(_) => match to_value(lua, &contents, &format!("lab:file {path}"))? {
            v @ (Value::Concat(_) | Value::Ref(_)) => Contents::Deferred(v),
            other => {
                return Err(location::error(
                    lua,
                    format!(
                        "lab:file {path}: contents must be text, got {}",
                        other.describe()
                    ),
                ));
            }
        },
        other => {
            return Err(location::error(
                lua,
                format!(
                    "lab:file {path}: contents must be text, got a {}",
                    other.type_name()
                ),
            ));
        }
    };
    let mut file_mode = 0o644;
    let options = opts.map(|t| {
        t.pairs::<String, mlua::Value>()
            .collect::<mlua::Result<Vec<_>>>()
    });
    for pair in options.transpose()?.unwrap_or_default() {
        match pair {
            (key, value) if key == "mode" => file_mode = mode(lua, value)?,
            (key, _) => {
                return Err(location::error(
                    lua,
                    format!("lab:file: unknown option '{key}' (known: mode)"),
                ));
            }
        }
    }
    let location = location::caller(lua);
    let mut declared = lua
        .app_data_mut::<Declared>()
        .ok_or_else(|| location::error(lua, "lab:file: no lab is being declared"))?;
    if let Some(previous) = declared.0.iter().find(|f| f.path == path) {
        return Err(location::error(
            lua,
            format!(
                "lab:file: {path} is already declared at {}",
                previous.location
            ),
        ));
    }
    declared.0.push(LabFile {
        path,
        contents,
        mode: file_mode,
        location,
    });
    Ok(())
}

/// Adds the `file` method to a lab table.
pub fn add_method(lua: &Lua, lab: &Table) -> mlua::Result<()> {
    lua.set_app_data(Declared::default());
    lab.set(
        "file",
        lua.create_function(
            |lua, (_this, path, contents, opts): (Table, String, mlua::Value, Option<Table>)| {
                declare(lua, path, contents, opts)
            },
        )?,
    )
}

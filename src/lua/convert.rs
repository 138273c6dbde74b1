//! Converting between Lua values and declared values.

use super::location;
use super::values::{AttrRef, Deferred, Handle};
use crate::engine::value::Value;
use indexmap::IndexMap;
use mlua::Lua;

/// Converts a Lua value to a declared value; `what` names it in errors.
pub fn to_value(lua: &Lua, v: &mlua::Value, what: &str) -> mlua::Result<Value> {
    Ok(match v {
        mlua::Value::Nil => Value::Null,
        mlua::Value::Boolean(b) => Value::Bool(*b),
        mlua::Value::Integer(i) => Value::Int(*i),
        mlua::Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Value::Int(*n as i64),
        mlua::Value::Number(n) => Value::Float(*n),
        mlua::Value::String(s) => Value::Str(s.to_str()?.to_string()),
        mlua::Value::Table(t) => table_to_value(lua, t, what)?,
        mlua::Value::UserData(ud) => {
            if let Ok(r) = ud.borrow::<AttrRef>() {
                Value::Ref(r.0.clone())
            } else if let Ok(d) = ud.borrow::<Deferred>() {
                Value::Concat(d.0.clone())
            } else if let Ok(h) = ud.borrow::<Handle>() {
                Value::Ref(h.reference())
            } else {
                return Err(location::error(
                    lua,
                    format!("{what}: this userdata cannot be a property"),
                ));
            }
        }
        other => {
            return Err(location::error(
                lua,
                format!("{what}: a {} cannot be a property", other.type_name()),
            ));
        }
    })
}

fn table_to_value(lua: &Lua, t: &mlua::Table, what: &str) -> mlua::Result<Value> {
    let len = t.raw_len();
    let mut count = 0;
    let mut map = IndexMap::new();
    let mut keys = Vec::new();
    for pair in t.clone().pairs::<mlua::Value, mlua::Value>() {
        let (k, v) = pair?;
        count += 1;
        keys.push((k, v));
    }
    if count == len {
        let items = (1..=len)
            .map(|i| to_value(lua, &t.raw_get::<mlua::Value>(i)?, &format!("{what}[{i}]")))
            .collect::<mlua::Result<_>>()?;
        return Ok(Value::List(items));
    }
    for (k, v) in keys {
        let key = match &k {
            mlua::Value::String(s) => s.to_str()?.to_string(),
            other => {
                return Err(location::error(
                    lua,
                    format!("{what}: a table mixes list items and fields (key {other:?})"),
                ));
            }
        };
        let value = to_value(lua, &v, &format!("{what}.{key}"))?;
        map.insert(key, value);
    }
    // Keep the script's order stable regardless of Lua's hash order.
    map.sort_keys();
    Ok(Value::Map(map))
}

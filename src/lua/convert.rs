//! Converting between Lua values and declared values.

use super::location;
use crate::engine::value::{Ref, Value};
use indexmap::IndexMap;
use mlua::{Lua, UserData, UserDataMethods};

/// A reference to one attribute of a resource, as seen from Lua.
#[derive(Clone, Debug)]
pub struct AttrRef(pub Ref);

impl UserData for AttrRef {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(mlua::MetaMethod::ToString, |_, this, ()| {
            Ok(this.0.to_string())
        });
        add_concat(methods);
    }
}

/// A string known only after apply, made of literal pieces and references:
/// `"https://" .. lb.dns_name .. ":6443"`, or `labrun.template` with a
/// reference among its values. The engine resolves it once what it names
/// exists, and orders whatever uses it after that.
#[derive(Clone, Debug, Default)]
pub struct Deferred(pub Vec<Value>);

impl Deferred {
    /// Appends a piece, merging adjacent literal text.
    pub fn push(&mut self, piece: Value) {
        match (self.0.last_mut(), piece) {
            (Some(Value::Str(last)), Value::Str(s)) => last.push_str(&s),
            (_, Value::Concat(parts)) => parts.into_iter().for_each(|p| self.push(p)),
            (_, p) => self.0.push(p),
        }
    }

    /// A plain string if no piece is a reference, else the deferred value.
    pub fn into_lua(self, lua: &Lua) -> mlua::Result<mlua::Value> {
        match self.0.as_slice() {
            [] => Ok(mlua::Value::String(lua.create_string("")?)),
            [Value::Str(s)] => Ok(mlua::Value::String(lua.create_string(s)?)),
            _ => lua.create_userdata(self).map(mlua::Value::UserData),
        }
    }
}

impl UserData for Deferred {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(mlua::MetaMethod::ToString, |_, this, ()| {
            Ok(Value::Concat(this.0.clone()).describe())
        });
        add_concat(methods);
    }
}

/// `..` on a value known only after apply gives a [`Deferred`] string.
pub fn add_concat<T, M: UserDataMethods<T>>(methods: &mut M) {
    methods.add_meta_function(
        mlua::MetaMethod::Concat,
        |lua, (a, b): (mlua::Value, mlua::Value)| {
            let mut d = Deferred::default();
            d.push(piece(lua, &a)?);
            d.push(piece(lua, &b)?);
            d.into_lua(lua)
        },
    );
}

/// A piece of a string: text, a number, or something known after apply.
pub fn piece(lua: &Lua, v: &mlua::Value) -> mlua::Result<Value> {
    Ok(match v {
        mlua::Value::String(s) => Value::Str(s.to_str()?.to_string()),
        mlua::Value::Integer(i) => Value::Str(i.to_string()),
        mlua::Value::Number(n) => Value::Str(n.to_string()),
        mlua::Value::UserData(_) => match to_value(lua, v, "a string piece")? {
            Value::Ref(r) => Value::Ref(r),
            Value::Concat(parts) => Value::Concat(parts),
            other => {
                return Err(location::error(
                    lua,
                    format!("{} cannot be part of a string", other.describe()),
                ));
            }
        },
        other => {
            return Err(location::error(
                lua,
                format!("a {} cannot be part of a string", other.type_name()),
            ));
        }
    })
}

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
            } else if let Ok(h) = ud.borrow::<super::modules::lab::Handle>() {
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

//! The values a script handles while it declares a lab: handles to
//! declared resources, references to their attributes, and strings known
//! only after apply. Each becomes a declared [`Value`] in the engine.

use super::location;
use crate::engine::decl::address;
use crate::engine::value::{Ref, Value};
use mlua::{IntoLua, Lua, LuaSerdeExt, MetaMethod, UserData, UserDataMethods};
use std::sync::Arc;

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
        mlua::Value::UserData(ud) => {
            if let Ok(r) = ud.borrow::<AttrRef>() {
                Value::Ref(r.0.clone())
            } else if let Ok(h) = ud.borrow::<Handle>() {
                Value::Ref(h.reference())
            } else if let Ok(d) = ud.borrow::<Deferred>() {
                Value::Concat(d.0.clone())
            } else {
                return Err(location::error(
                    lua,
                    "this userdata cannot be part of a string",
                ));
            }
        }
        other => {
            return Err(location::error(
                lua,
                format!("a {} cannot be part of a string", other.type_name()),
            ));
        }
    })
}

/// A declared resource, as seen from Lua.
#[derive(Clone, Debug)]
pub struct Handle {
    pub kind: String,
    pub name: String,
    attrs: &'static [&'static str],
    /// Declared properties that hold no reference, readable from Lua.
    literals: Arc<serde_json::Map<String, serde_json::Value>>,
}

impl Handle {
    /// A handle to the resource `kind.name` with these attributes and literal properties.
    pub fn new(
        kind: &str,
        name: &str,
        attrs: &'static [&'static str],
        literals: serde_json::Map<String, serde_json::Value>,
    ) -> Handle {
        Handle {
            kind: kind.to_string(),
            name: name.to_string(),
            attrs,
            literals: Arc::new(literals),
        }
    }

    /// The resource's address.
    pub fn address(&self) -> String {
        address(&self.kind, &self.name)
    }
    /// What the handle stands for in properties: the resource's ID.
    pub fn reference(&self) -> Ref {
        Ref {
            address: self.address(),
            attr: "id".into(),
        }
    }
}

impl UserData for Handle {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| Ok(this.address()));
        methods.add_meta_method(
            MetaMethod::Index,
            |lua, this, key: String| -> mlua::Result<mlua::Value> {
                match key.as_str() {
                    "address" => this.address().into_lua(lua),
                    "name" => this.name.clone().into_lua(lua),
                    "kind" => this.kind.clone().into_lua(lua),
                    prop if this.literals.contains_key(prop) => lua.to_value(&this.literals[prop]),
                    attr if attr == "id" || this.attrs.contains(&attr) => lua
                        .create_userdata(AttrRef(Ref {
                            address: this.address(),
                            attr: attr.into(),
                        }))
                        .map(mlua::Value::UserData),
                    other => Err(location::error(
                        lua,
                        format!(
                            "{} has no attribute '{other}' (it has: address, name, kind, id{})",
                            this.address(),
                            this.attrs
                                .iter()
                                .map(|a| format!(", {a}"))
                                .collect::<String>()
                        ),
                    )),
                }
            },
        );
        add_concat(methods);
    }
}

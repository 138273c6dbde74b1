//! Declared values: plain data plus references to other resources' attributes.

use indexmap::IndexMap;
use serde_json::Value as Json;

/// A reference to an attribute of another resource, e.g. `vpc.lab` → `id`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ref {
    /// Address of the referenced resource (`kind.name`).
    pub address: String,
    /// Attribute name (`id`, `private_ip`, `public_ip`, ...).
    pub attr: String,
}

impl std::fmt::Display for Ref {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.address, self.attr)
    }
}

/// A declared property value. References resolve in the engine at apply time.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    Map(IndexMap<String, Value>),
    Ref(Ref),
}

/// What resolving a value against known attributes gave.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    /// Every reference was known.
    Known(Json),
    /// At least one reference is only known after apply.
    Unknown,
}

impl Value {
    /// Calls `f` on every reference inside this value.
    pub fn visit_refs<'a>(&'a self, f: &mut dyn FnMut(&'a Ref)) {
        match self {
            Value::Ref(r) => f(r),
            Value::List(items) => items.iter().for_each(|v| v.visit_refs(f)),
            Value::Map(map) => map.values().for_each(|v| v.visit_refs(f)),
            _ => {}
        }
    }

    /// Replaces references by the values `lookup` knows.
    pub fn resolve(&self, lookup: &dyn Fn(&Ref) -> Option<Json>) -> Resolved {
        match self.try_resolve(lookup) {
            Some(v) => Resolved::Known(v),
            None => Resolved::Unknown,
        }
    }

    fn try_resolve(&self, lookup: &dyn Fn(&Ref) -> Option<Json>) -> Option<Json> {
        Some(match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Float(x) => Json::from(*x),
            Value::Str(s) => Json::String(s.clone()),
            Value::List(items) => Json::Array(
                items
                    .iter()
                    .map(|v| v.try_resolve(lookup))
                    .collect::<Option<_>>()?,
            ),
            Value::Map(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| Some((k.clone(), v.try_resolve(lookup)?)))
                    .collect::<Option<_>>()?,
            ),
            Value::Ref(r) => lookup(r)?,
        })
    }

    /// The literal string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A short human description for plans: literals as JSON, references by name.
    pub fn describe(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(x) => x.to_string(),
            Value::Str(s) => Json::String(s.clone()).to_string(),
            Value::List(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(Value::describe)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::Map(map) => format!(
                "{{{}}}",
                map.iter()
                    .map(|(k, v)| format!("{k} = {}", v.describe()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::Ref(r) => format!("({r})"),
        }
    }
}

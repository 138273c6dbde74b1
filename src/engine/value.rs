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
    /// A string made of pieces, some known only after apply (`"https://" .. lb.dns_name`).
    Concat(Vec<Value>),
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
            Value::List(items) | Value::Concat(items) => items.iter().for_each(|v| v.visit_refs(f)),
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
            Value::Concat(parts) => {
                let mut text = String::new();
                for part in parts {
                    match part.try_resolve(lookup)? {
                        Json::String(s) => text.push_str(&s),
                        Json::Null => {}
                        other => text.push_str(&other.to_string()),
                    }
                }
                Json::String(text)
            }
        })
    }

    /// A literal value from JSON (no references).
    pub fn from_json(j: &Json) -> Value {
        match j {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => n
                .as_i64()
                .map(Value::Int)
                .unwrap_or_else(|| Value::Float(n.as_f64().unwrap_or_default())),
            Json::String(s) => Value::Str(s.clone()),
            Json::Array(items) => Value::List(items.iter().map(Value::from_json).collect()),
            Json::Object(m) => Value::Map(
                m.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Whether the value holds a reference (so it is known only after apply).
    pub fn has_refs(&self) -> bool {
        let mut any = false;
        self.visit_refs(&mut |_| any = true);
        any
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
            Value::Concat(parts) => Json::String(
                parts
                    .iter()
                    .map(|p| match p {
                        Value::Str(s) => s.clone(),
                        Value::Ref(r) => format!("${{{r}}}"),
                        other => other.describe(),
                    })
                    .collect(),
            )
            .to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_concatenation_resolves_once_its_references_are_known() {
        let ip = Ref {
            address: "elastic_ip.gateway".into(),
            attr: "public_ip".into(),
        };
        let v = Value::Concat(vec![
            Value::Str("Endpoint = ".into()),
            Value::Ref(ip.clone()),
            Value::Str(":".into()),
            Value::Int(51820),
        ]);
        assert!(v.has_refs());
        assert_eq!(v.resolve(&|_| None), Resolved::Unknown);
        let known = v.resolve(&|r| (*r == ip).then(|| Json::from("203.0.113.7")));
        assert_eq!(
            known,
            Resolved::Known(Json::from("Endpoint = 203.0.113.7:51820"))
        );
        assert_eq!(
            v.describe(),
            "\"Endpoint = ${elastic_ip.gateway.public_ip}:51820\""
        );
    }
}

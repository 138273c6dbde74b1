//! What a resource kind accepts: fields, their types, and whether a change
//! updates the resource in place or replaces it.

use super::value::Value;

/// The type of a field.
#[derive(Debug)]
pub enum Type {
    Str,
    Int,
    Bool,
    /// An IPv4 CIDR block such as `10.10.16.0/20`.
    Cidr,
    /// An IPv4 address.
    Ip,
    /// A handle (or attribute reference) to a resource of this kind, or a literal ID.
    Ref(&'static str),
    /// One of these literal strings.
    OneOf(&'static [&'static str]),
    List(&'static Type),
    Object(&'static [Field]),
    /// Any string or string-valued reference (IDs, IPs from other resources).
    StrOrRef,
    /// Any data (used for free-form values).
    Any,
}

/// What a change of a field does to an existing resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    InPlace,
    Replace,
}

/// One field of a resource kind.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub ty: Type,
    pub required: bool,
    pub update: Update,
    pub doc: &'static str,
}

impl Field {
    /// A required field whose change replaces the resource.
    pub const fn required(name: &'static str, ty: Type, doc: &'static str) -> Field {
        Field {
            name,
            ty,
            required: true,
            update: Update::Replace,
            doc,
        }
    }
    /// An optional field whose change replaces the resource.
    pub const fn optional(name: &'static str, ty: Type, doc: &'static str) -> Field {
        Field {
            name,
            ty,
            required: false,
            update: Update::Replace,
            doc,
        }
    }
    /// Marks a field as updatable in place.
    pub const fn in_place(self) -> Field {
        Field {
            update: Update::InPlace,
            ..self
        }
    }
}

/// The schema of a resource kind.
#[derive(Debug)]
pub struct Schema {
    pub kind: &'static str,
    pub doc: &'static str,
    pub fields: &'static [Field],
    /// Attributes known after creation (besides `id`).
    pub attrs: &'static [&'static str],
}

impl Schema {
    /// The field of that name.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Checks declared properties against the schema. Errors name the field path.
    pub fn check(&self, props: &indexmap::IndexMap<String, Value>) -> Result<(), String> {
        check_object(self.kind, self.fields, props, "")
    }
}

fn check_object(
    what: &str,
    fields: &'static [Field],
    props: &indexmap::IndexMap<String, Value>,
    path: &str,
) -> Result<(), String> {
    for key in props.keys() {
        if !fields.iter().any(|f| f.name == key) {
            let known: Vec<_> = fields.iter().map(|f| f.name).collect();
            return Err(format!(
                "unknown field '{path}{key}' for {what} (known fields: {})",
                known.join(", ")
            ));
        }
    }
    for field in fields {
        match props.get(field.name) {
            None | Some(Value::Null) if field.required => {
                return Err(format!(
                    "{what}: field '{path}{}' is required ({})",
                    field.name, field.doc
                ));
            }
            None | Some(Value::Null) => {}
            Some(v) => check_type(what, &field.ty, v, &format!("{path}{}", field.name))?,
        }
    }
    Ok(())
}

fn check_type(what: &str, ty: &'static Type, v: &Value, path: &str) -> Result<(), String> {
    let bad = |expected: &str| {
        Err(format!(
            "{what}: field '{path}' must be {expected}, got {}",
            v.describe()
        ))
    };
    match (ty, v) {
        (Type::Any, _) => Ok(()),
        (_, Value::Ref(r)) => match ty {
            Type::Ref(kind) if r.attr == "id" && !r.address.starts_with(&format!("{kind}.")) => {
                bad(&format!("a {kind} (got a handle to {})", r.address))
            }
            Type::List(_) | Type::Object(_) | Type::Bool | Type::Int => {
                bad("a literal value, not a reference")
            }
            _ => Ok(()),
        },
        (Type::Str | Type::StrOrRef | Type::Ref(_), Value::Str(_)) => Ok(()),
        (Type::Str | Type::StrOrRef, Value::Concat(_)) => Ok(()),
        (Type::Int, Value::Int(_)) => Ok(()),
        (Type::Bool, Value::Bool(_)) => Ok(()),
        (Type::Cidr, Value::Str(s)) => match s.parse::<ipnet::Ipv4Net>() {
            Ok(net) if net.trunc() == net => Ok(()),
            Ok(net) => Err(format!(
                "{what}: field '{path}': {s} has host bits set (did you mean {}?)",
                net.trunc()
            )),
            Err(_) => bad("an IPv4 CIDR block like \"10.0.0.0/16\""),
        },
        (Type::Ip, Value::Str(s)) => match s.parse::<std::net::Ipv4Addr>() {
            Ok(_) => Ok(()),
            Err(_) => bad("an IPv4 address like \"10.0.0.10\""),
        },
        (Type::OneOf(options), Value::Str(s)) if options.contains(&s.as_str()) => Ok(()),
        (Type::OneOf(options), _) => bad(&format!("one of {}", options.join(", "))),
        (Type::List(inner), Value::List(items)) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| check_type(what, inner, item, &format!("{path}[{}]", i + 1))),
        (Type::Object(fields), Value::Map(map)) => {
            check_object(what, fields, map, &format!("{path}."))
        }
        (Type::Str | Type::StrOrRef | Type::Ref(_), _) => bad("a string"),
        (_, Value::Concat(_)) => bad("a literal value, not a string known only after apply"),
        (Type::Int, _) => bad("an integer"),
        (Type::Bool, _) => bad("true or false"),
        (Type::Cidr, _) => bad("a CIDR string"),
        (Type::Ip, _) => bad("an IP address string"),
        (Type::List(_), _) => bad("a list"),
        (Type::Object(_), _) => bad("a table"),
    }
}

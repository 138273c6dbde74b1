//! `labrun.lab{...}`: declaring a lab, its resources and outputs.
//!
//! `lab:<kind>(name, props)` declares a resource and returns a handle;
//! passing a handle (or `handle.attr`) in another resource's properties
//! makes a dependency edge. Nothing here calls AWS.

use crate::engine::decl::{Declaration, Expiry, ResourceDecl, address};
use crate::engine::schema::Schema;
use crate::engine::value::{Ref, Value};
use crate::lua::convert::to_value;
use crate::lua::location;
use crate::lua::values::{AttrRef, Handle};
use mlua::{Lua, Table};
use std::sync::{Arc, Mutex};

/// The declaration a script builds, shared with the loader.
#[derive(Debug, Clone, Default)]
pub struct Declared(pub Arc<Mutex<Option<Declaration>>>);

/// The kinds the lab table offers as methods (`lab:vpc(...)`), from the provider.
#[derive(Clone)]
pub struct Kinds(pub Arc<Vec<&'static Schema>>);

impl Kinds {
    /// The kinds of these schemas.
    pub fn new(schemas: Vec<&'static Schema>) -> Kinds {
        Kinds(Arc::new(schemas))
    }

    fn schema(&self, kind: &str) -> Option<&'static Schema> {
        self.0.iter().copied().find(|s| s.kind == kind)
    }
}

/// How a lab's expiry is decided from its time to live. Given by whoever
/// loads the script: the session knows what the state recorded.
#[derive(Clone, Default)]
pub struct TtlRule {
    /// `--ttl`: replaces the script's `ttl` and starts a fresh expiry.
    pub given: Option<std::time::Duration>,
    /// The expiry recorded for a lab that is up, by lab name.
    pub recorded: Option<RecordedExpiry>,
}

/// Looks up the expiry recorded for a lab, by name.
pub type RecordedExpiry = Arc<dyn Fn(&str) -> Option<Expiry> + Send + Sync>;

impl TtlRule {
    /// The expiry of lab `lab` declared with `ttl` (seconds), now being
    /// `now`: a recorded expiry with the same TTL that is still ahead is
    /// kept (so an unchanged lab's Ignition stays the same), unless `--ttl`
    /// was given; otherwise the TTL starts now.
    pub fn expiry(&self, lab: &str, ttl: Option<u64>, now: u64) -> Option<Expiry> {
        if let Some(given) = self.given {
            let ttl = given.as_secs();
            return Some(Expiry { ttl, at: now + ttl });
        }
        let ttl = ttl?;
        let kept = (self.recorded.as_ref())
            .and_then(|r| r(lab))
            .filter(|e| e.ttl == ttl && e.at > now);
        Some(kept.unwrap_or(Expiry { ttl, at: now + ttl }))
    }
}

/// `ttl = "4h"` (or a number of seconds) in `labrun.lab{...}`.
fn parse_ttl(lua: &Lua, v: mlua::Value) -> mlua::Result<Option<u64>> {
    let secs = match v {
        mlua::Value::Nil => return Ok(None),
        mlua::Value::Integer(n) if n > 0 => n as u64,
        mlua::Value::Number(n) if n >= 1.0 => n as u64,
        mlua::Value::String(s) => {
            let text = s.to_str()?.to_string();
            humantime::parse_duration(&text)
                .map_err(|e| {
                    location::error(
                        lua,
                        format!(
                            "labrun.lab: ttl '{text}' is no duration ({e}); e.g. \"4h\" or \"90m\""
                        ),
                    )
                })?
                .as_secs()
        }
        other => {
            return Err(location::error(
                lua,
                format!(
                    "labrun.lab: ttl must be a duration like \"4h\" or seconds, got {}",
                    other.type_name()
                ),
            ));
        }
    };
    if secs < 1 {
        return Err(location::error(
            lua,
            "labrun.lab: ttl must be at least one second",
        ));
    }
    Ok(Some(secs))
}

/// Set while a script runs only to learn its lab's name: `labrun.lab`
/// stops the script there, before any key is made.
#[derive(Debug, Clone, Copy)]
pub struct NameOnly;

/// The error that stops a script run in [`NameOnly`] mode.
#[derive(Debug, thiserror::Error)]
#[error("stopped once the lab was declared")]
pub struct Stopped;

fn check_name(lua: &Lua, what: &str, name: &str) -> mlua::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && name.starts_with(|c: char| c.is_ascii_lowercase());
    if ok {
        Ok(())
    } else {
        Err(location::error(
            lua,
            format!(
                "{what} name '{name}' must start with a lowercase letter and use only a-z, 0-9, - and _ (at most 40)"
            ),
        ))
    }
}

pub(crate) fn with_decl<R>(
    lua: &Lua,
    f: impl FnOnce(&mut Declaration) -> mlua::Result<R>,
) -> mlua::Result<R> {
    let declared = lua
        .app_data_ref::<Declared>()
        .ok_or_else(|| location::error(lua, "no lab is being declared"))?
        .clone();
    let mut guard = declared
        .0
        .lock()
        .map_err(|_| mlua::Error::runtime("declaration poisoned"))?;
    let decl = guard
        .as_mut()
        .ok_or_else(|| location::error(lua, "call labrun.lab{ name = ... } first"))?;
    f(decl)
}

/// Declares one resource of `kind`.
fn declare(
    lua: &Lua,
    kinds: &Kinds,
    kind: &str,
    name: String,
    props: mlua::Value,
) -> mlua::Result<Handle> {
    check_name(lua, kind, &name)?;
    let schema = kinds.schema(kind).ok_or_else(|| {
        location::error(
            lua,
            format!(
                "unknown resource kind '{kind}'{}",
                crate::suggest::did_you_mean(kind, kinds.0.iter().map(|s| s.kind))
            ),
        )
    })?;
    let mut values = match props {
        mlua::Value::Nil => Default::default(),
        mlua::Value::Table(t) => {
            match to_value(lua, &mlua::Value::Table(t), &format!("{kind} '{name}'"))? {
                Value::Map(m) => m,
                Value::List(l) if l.is_empty() => Default::default(),
                _ => {
                    return Err(location::error(
                        lua,
                        format!("{kind} '{name}': properties must be a table of fields"),
                    ));
                }
            }
        }
        other => {
            return Err(location::error(
                lua,
                format!(
                    "{kind} '{name}': properties must be a table of fields, got a {}",
                    other.type_name()
                ),
            ));
        }
    };
    let depends_on = match values.shift_remove("depends_on") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::List(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::Ref(r) => Ok(r),
                other => Err(location::error(
                    lua,
                    format!("depends_on takes handles, got {}", other.describe()),
                )),
            })
            .collect::<mlua::Result<_>>()?,
        Some(Value::Ref(r)) => vec![r],
        Some(other) => {
            return Err(location::error(
                lua,
                format!("depends_on takes handles, got {}", other.describe()),
            ));
        }
    };
    values.retain(|_, v| *v != Value::Null);
    schema
        .check(&values)
        .map_err(|m| location::error(lua, format!("{kind} '{name}': {m}")))?;
    let location = location::caller(lua);
    let literals = values
        .iter()
        .filter_map(|(k, v)| match v.resolve(&|_| None) {
            crate::engine::value::Resolved::Known(j) => Some((k.clone(), j)),
            crate::engine::value::Resolved::Unknown => None,
        })
        .collect();
    let r = ResourceDecl {
        kind: kind.to_string(),
        name: name.clone(),
        props: values,
        depends_on,
        location,
    };
    with_decl(lua, |decl| {
        let addr = r.address();
        if let Some(previous) = decl.resources.get(&addr) {
            return Err(location::error(
                lua,
                format!("{addr} is already declared at {}", previous.location),
            ));
        }
        decl.resources.insert(addr, r);
        Ok(())
    })?;
    Ok(Handle::new(kind, &name, schema.attrs, literals))
}

/// Builds the Lua table for a lab.
fn lab_table(lua: &Lua, kinds: &Kinds, name: &str, region: &str) -> mlua::Result<Table> {
    let lab = lua.create_table()?;
    lab.set("name", name)?;
    lab.set("region", region)?;
    for kind in kinds.0.iter().map(|s| s.kind) {
        let k = kinds.clone();
        lab.set(
            kind,
            lua.create_function(
                move |lua, (_this, name, props): (Table, String, mlua::Value)| {
                    declare(lua, &k, kind, name, props)
                },
            )?,
        )?;
    }
    let k = kinds.clone();
    lab.set(
        "resource",
        lua.create_function(
            move |lua, (_this, kind, name, props): (Table, String, String, mlua::Value)| {
                declare(lua, &k, &kind, name, props)
            },
        )?,
    )?;
    lab.set(
        "ref",
        lua.create_function(|lua, (_this, addr): (Table, String)| {
            let Some((kind, name)) = addr.split_once('.') else {
                return Err(location::error(
                    lua,
                    format!("'{addr}' is not an address like vpc.main"),
                ));
            };
            Ok(AttrRef(Ref {
                address: address(kind, name),
                attr: "id".into(),
            }))
        })?,
    )?;
    lab.set(
        "output",
        lua.create_function(|lua, (_this, name, value): (Table, String, mlua::Value)| {
            let v = to_value(lua, &value, &format!("output '{name}'"))?;
            let location = location::caller(lua);
            with_decl(lua, |decl| {
                if let Some((_, earlier)) = decl.outputs.get(&name) {
                    return Err(location::error(
                        lua,
                        format!("output '{name}' is already declared at {earlier}"),
                    ));
                }
                decl.outputs.insert(name, (v, location));
                Ok(())
            })
        })?,
    )?;
    super::files::add_method(lua, &lab)?;
    refuse_unknown_methods(lua, &lab)?;
    Ok(lab)
}

/// `lab:vcp(...)` says "lab has no method 'vcp' (did you mean vpc?)", not
/// Lua's "attempt to call a nil value".
fn refuse_unknown_methods(lua: &Lua, lab: &Table) -> mlua::Result<()> {
    let mut known: Vec<String> = Vec::new();
    for pair in lab.pairs::<String, mlua::Value>() {
        known.push(pair?.0);
    }
    let meta = lua.create_table()?;
    meta.set(
        "__index",
        lua.create_function(
            move |lua, (_lab, key): (Table, mlua::Value)| -> mlua::Result<()> {
                let key = key.to_string()?;
                Err(location::error(
                    lua,
                    format!(
                        "lab has no field or method '{key}'{}",
                        crate::suggest::did_you_mean(&key, known.iter().map(String::as_str))
                    ),
                ))
            },
        )?,
    )?;
    lab.set_metatable(Some(meta))
}

/// Whether `s` looks like an AWS region: `us-east-1`, `ap-southeast-2`...
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

/// Adds `labrun.lab` and `labrun.expiry`.
pub fn register(lua: &Lua, labrun: &Table, kinds: Kinds) -> mlua::Result<()> {
    lua.set_app_data(Declared::default());
    labrun.set(
        "expiry",
        lua.create_function(|lua, ()| {
            let declared = lua.app_data_ref::<Declared>().map(|d| d.clone());
            let expires = declared.and_then(|d| {
                d.0.lock()
                    .ok()
                    .and_then(|g| g.as_ref().and_then(|decl| decl.expires))
            });
            expires
                .map(|e| -> mlua::Result<Table> {
                    let t = lua.create_table()?;
                    t.set("ttl", e.ttl)?;
                    t.set("at", e.at)?;
                    Ok(t)
                })
                .transpose()
        })?,
    )?;
    labrun.set(
        "lab",
        lua.create_function(move |lua, opts: Table| {
            let name: Option<String> = opts.get("name")?;
            let name = name.ok_or_else(|| location::error(lua, "labrun.lab needs a name"))?;
            check_name(lua, "lab", &name)?;
            let region = match opts.get::<mlua::Value>("region")? {
                mlua::Value::Nil => "us-east-1".to_string(),
                mlua::Value::String(s) if is_region(&s.to_str()?) => s.to_str()?.to_string(),
                other => {
                    return Err(location::error(
                        lua,
                        format!(
                            "labrun.lab: region must be a string like \"us-east-1\", got {}",
                            other
                                .to_string()
                                .unwrap_or_else(|_| other.type_name().into())
                        ),
                    ));
                }
            };
            for pair in opts.pairs::<String, mlua::Value>() {
                let (key, _) = pair?;
                if !["name", "region", "ttl"].contains(&key.as_str()) {
                    return Err(location::error(
                        lua,
                        format!("labrun.lab: unknown field '{key}' (known: name, region, ttl)"),
                    ));
                }
            }
            let ttl = parse_ttl(lua, opts.get("ttl")?)?;
            let rule = lua
                .app_data_ref::<TtlRule>()
                .map(|r| r.clone())
                .unwrap_or_default();
            let expires = rule.expiry(&name, ttl, crate::engine::state::now());
            let declared = lua
                .app_data_ref::<Declared>()
                .map(|d| d.clone())
                .unwrap_or_default();
            let mut slot = declared
                .0
                .lock()
                .map_err(|_| mlua::Error::runtime("declaration poisoned"))?;
            if let Some(existing) = slot.as_ref() {
                return Err(location::error(
                    lua,
                    format!(
                        "a script declares one lab; '{}' is already declared",
                        existing.lab
                    ),
                ));
            }
            *slot = Some(Declaration {
                lab: name.clone(),
                region: region.clone(),
                expires,
                ..Default::default()
            });
            drop(slot);
            if lua.app_data_ref::<NameOnly>().is_some() {
                return Err(mlua::Error::external(Stopped));
            }
            if let Some(store) = lua.app_data_ref::<crate::secrets::LabSecrets>() {
                store
                    .open(&name)
                    .map_err(|e| location::error(lua, format!("{e:#}")))?;
            }
            if let Some(pinned) = lua.app_data_ref::<crate::secrets::Pinned>() {
                pinned
                    .0
                    .open(&name)
                    .map_err(|e| location::error(lua, format!("{e:#}")))?;
            }
            lab_table(lua, &kinds, &name, &region)
        })?,
    )
}

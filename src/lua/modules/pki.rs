//! `labrun.pki`: the lab's keys and certificates, made once and kept in its
//! secrets (entry `pki`) so the next load reuses them, and kubeconfigs
//! made from them.

use crate::lua::location;
use crate::pki::{self, Certificate, Kubeconfig, Material, PrivateKey, SetSpec};
use crate::secrets::LabSecrets;
use anyhow::Context;
use mlua::{Lua, LuaSerdeExt, Table};
use serde::Deserialize;
use serde_json::Value as Json;

/// The entry of the lab's secrets that holds its PKI.
pub const SECRET: &str = "pki";

/// The PKI stored with a lab (empty if it has none, or it is renewed).
pub fn stored(secrets: &LabSecrets) -> anyhow::Result<Material> {
    secrets
        .get(SECRET)
        .map(serde_json::from_value)
        .transpose()
        .context("the lab's stored PKI (secrets.json, entry pki) is unreadable")
        .map(Option::unwrap_or_default)
}

/// What the sets of this load made.
#[derive(Default)]
struct ThisLoad {
    /// What the lab had before this load; read at the first set.
    stored: Option<Material>,
    /// Every entry the script's sets declared so far.
    declared: Material,
    new_keys: usize,
    new_certs: usize,
}

/// A line saying how many keys and certificates this load made, if any.
pub fn report(lua: &Lua) -> Option<String> {
    let load = lua.app_data_ref::<ThisLoad>()?;
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    (load.new_keys + load.new_certs > 0).then(|| {
        format!(
            "pki: generated {}, issued {}",
            plural(load.new_keys, "key"),
            plural(load.new_certs, "certificate")
        )
    })
}

/// List fields of a certificate request: Lua cannot tell an empty list
/// from an empty table, which arrives as an object.
const CERT_LISTS: &[&str] = &["o", "dns", "ips", "usages", "ekus"];

/// The named entries of a `keys` or `certs` table.
fn named(lua: &Lua, field: &str, value: Json) -> mlua::Result<serde_json::Map<String, Json>> {
    match value {
        Json::Object(entries) => Ok(entries),
        Json::Array(items) if items.is_empty() => Ok(Default::default()),
        _ => Err(location::error(
            lua,
            format!("labrun.pki.set: {field} must be a table of name = ..."),
        )),
    }
}

/// Reads `{ keys = { name = kind }, certs = { name = { ... } } }`, entries
/// sorted by name (Lua tables have no order).
fn set_spec(lua: &Lua, value: mlua::Value) -> mlua::Result<SetSpec> {
    let bad = |what: String| location::error(lua, format!("labrun.pki.set: {what}"));
    let json: Json = lua.from_value(value).map_err(|e| bad(e.to_string()))?;
    let Json::Object(fields) = json else {
        return Err(bad("takes a table { keys = ..., certs = ... }".into()));
    };
    let mut spec = SetSpec::default();
    for (field, value) in fields {
        match field.as_str() {
            "keys" => {
                for (name, kind) in named(lua, &field, value)? {
                    let kind = serde_json::from_value(kind)
                        .map_err(|e| bad(format!("keys[{name:?}]: {e}")))?;
                    spec.keys.insert(name, kind);
                }
            }
            "certs" => {
                for (name, mut cert) in named(lua, &field, value)? {
                    if let Json::Object(fields) = &mut cert {
                        for list in CERT_LISTS {
                            if fields.get(*list) == Some(&Json::Object(Default::default())) {
                                fields.insert(list.to_string(), Json::Array(Vec::new()));
                            }
                        }
                    }
                    let cert = serde_json::from_value(cert)
                        .map_err(|e| bad(format!("certs[{name:?}]: {e}")))?;
                    spec.certs.insert(name, cert);
                }
            }
            other => return Err(bad(format!("unknown field '{other}' (known: keys, certs)"))),
        }
    }
    spec.keys.sort_keys();
    spec.certs.sort_keys();
    Ok(spec)
}

/// Makes (or reuses) the set, adds it to what this load declared, stores
/// that with the lab and returns the new set's entries.
fn set(lua: &Lua, value: mlua::Value) -> mlua::Result<Table> {
    let spec = set_spec(lua, value)?;
    let secrets = lua
        .app_data_ref::<LabSecrets>()
        .map(|s| s.clone())
        .filter(LabSecrets::is_open)
        .ok_or_else(|| {
            location::error(
                lua,
                "labrun.pki.set: declare the lab first (labrun.lab{ name = ... }): keys are kept with it",
            )
        })?;
    let made = {
        let mut load = lua
            .app_data_mut::<ThisLoad>()
            .ok_or_else(|| location::error(lua, "labrun.pki is not set up"))?;
        if load.stored.is_none() {
            load.stored =
                Some(stored(&secrets).map_err(|e| location::error(lua, format!("{e:#}")))?);
        }
        let names = spec.keys.keys().chain(spec.certs.keys());
        if let Some(name) = names
            .into_iter()
            .find(|n| load.declared.keys.contains_key(*n))
        {
            return Err(location::error(
                lua,
                format!("labrun.pki.set: {name:?} is already declared by an earlier set"),
            ));
        }
        let stored = load.stored.as_ref().expect("read above");
        let made = pki::generate_set(&spec, stored)
            .map_err(|e| location::error(lua, format!("labrun.pki.set: {e}")))?;
        load.new_keys += made.new_keys.len();
        load.new_certs += made.new_certs.len();
        load.declared.keys.extend(made.material.keys.clone());
        load.declared.certs.extend(made.material.certs.clone());
        let all = serde_json::to_value(&load.declared)
            .map_err(|e| location::error(lua, format!("labrun.pki.set: {e}")))?;
        secrets.set(SECRET, all);
        made.material
    };
    entries(lua, &made)
}

/// `{ [name] = { cert, key, fingerprint, public_fingerprint } }` for
/// certificates and `{ [name] = { key, public, fingerprint,
/// public_fingerprint } }` for bare keys. `public_fingerprint` is the
/// `sha256:<hex>` of the public key (kubeadm's discovery CA hash).
fn entries(lua: &Lua, material: &Material) -> mlua::Result<Table> {
    let out = lua.create_table()?;
    for (name, key) in &material.keys {
        let entry = lua.create_table()?;
        entry.set("key", key.to_pem())?;
        entry.set("public_fingerprint", key.fingerprint())?;
        match material.certs.get(name) {
            Some(cert) => {
                entry.set("cert", cert.to_pem())?;
                entry.set("fingerprint", cert.fingerprint())?;
            }
            None => {
                entry.set("public", key.public_key_pem())?;
                entry.set("fingerprint", key.fingerprint())?;
            }
        }
        out.set(name.as_str(), entry)?;
    }
    Ok(out)
}

/// One PEM string or a list of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum Pems {
    One(String),
    Many(Vec<String>),
}

/// The table `labrun.pki.kubeconfig` takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KubeconfigArgs {
    #[serde(default = "default_cluster")]
    cluster: String,
    server: String,
    proxy_url: Option<String>,
    ca: Pems,
    user: String,
    context: Option<String>,
    cert: String,
    key: String,
}

fn default_cluster() -> String {
    "kubernetes".into()
}

/// Renders a kubeconfig with everything embedded.
fn kubeconfig(lua: &Lua, value: mlua::Value) -> mlua::Result<String> {
    let bad = |what: String| location::error(lua, format!("labrun.pki.kubeconfig: {what}"));
    let args: KubeconfigArgs = lua.from_value(value).map_err(|e| bad(e.to_string()))?;
    let ca_pems = match args.ca {
        Pems::One(pem) => vec![pem],
        Pems::Many(pems) => pems,
    };
    let ca = (ca_pems.iter())
        .map(|pem| Certificate::from_pem(pem))
        .collect::<pki::Result<Vec<_>>>()
        .map_err(|e| bad(format!("ca: {e}")))?;
    let client_cert = Certificate::from_pem(&args.cert).map_err(|e| bad(format!("cert: {e}")))?;
    let client_key = PrivateKey::from_pem(&args.key).map_err(|e| bad(format!("key: {e}")))?;
    if !client_cert.is_for(&client_key) {
        return Err(bad("key is not the key of cert".into()));
    }
    Ok(Kubeconfig {
        cluster: &args.cluster,
        server: &args.server,
        proxy_url: args.proxy_url.as_deref(),
        ca: &ca.iter().collect::<Vec<_>>(),
        user: &args.user,
        context: args.context.as_deref(),
        client_cert: &client_cert,
        client_key: &client_key,
    }
    .render())
}

/// Adds `labrun.pki.set` and `labrun.pki.kubeconfig`.
pub fn register(lua: &Lua, labrun: &Table) -> mlua::Result<()> {
    lua.set_app_data(ThisLoad::default());
    let m = lua.create_table()?;
    m.set("set", lua.create_function(set)?)?;
    m.set("kubeconfig", lua.create_function(kubeconfig)?)?;
    labrun.set("pki", m)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The library's tests and the benchmark use `kube-3-nodes.json`; it
    /// must be what the stdlib declares for the write-up's three nodes.
    #[test]
    fn the_stdlib_kube_pki_is_the_set_the_library_is_tested_and_benchmarked_with() {
        let lua = Lua::new();
        crate::lua::loader::install(&lua, Some(std::path::Path::new("."))).unwrap();
        let spec: mlua::Value = lua
            .load(
                r#"
                local nodes = {}
                for i = 1, 3 do
                  nodes[i] = { name = "control-" .. i, ip = "10.10.16.1" .. i }
                end
                return require("labrun.kube.pki").spec {
                  nodes = nodes, root_cn = "kubelius-root-ca",
                  endpoint = { name = "api.kubelius", ip = "10.10.16.10" },
                }
                "#,
            )
            .eval()
            .unwrap();
        let from_lua = set_spec(&lua, spec).unwrap();
        let mut fixture: SetSpec =
            serde_json::from_str(include_str!("../../pki/testdata/kube-3-nodes.json")).unwrap();
        fixture.certs.sort_keys();
        assert_eq!(from_lua, fixture);
    }
}

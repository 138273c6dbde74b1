//! Opening a lab: find its script, run it, prepare the declaration, read
//! the state, and (once it is up) build its live context. Every command and
//! the REPL stand on this; nothing here prints but progress on stderr.

pub mod checks;
pub mod deliver;
pub mod live;
pub mod node_hosts;
pub mod pins;
pub mod resolve;
pub mod shipped;

use crate::aws::{self, Aws};
use crate::cost::Price;
use crate::engine::decl::Declaration;
use crate::engine::plan::{self, Plan};
use crate::engine::prepare::prepare;
use crate::engine::provider::Provider;
use crate::engine::state::{self, State};
use crate::engine::value::Resolved;
use crate::lua::error::ScriptError;
use crate::lua::modules::files::LabFile;
use crate::lua::modules::lab::{Kinds, TtlRule};
use crate::lua::modules::{pki, steps, tasks};
use crate::lua::{self, LoadOptions, Script};
use crate::secrets::{LabSecrets, Pinned};
use anyhow::{Context, Result};
use indexmap::IndexMap;
use mlua::Lua;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Bad input (a script, an argument, a config): exit code 2, nothing touched.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// The kinds scripts can declare: the provider's.
pub fn kinds() -> Kinds {
    Kinds::new(Aws::offline().schemas())
}

/// How to open a lab.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--var` values.
    pub vars: BTreeMap<String, String>,
    /// Entries of the lab's secrets to make anew instead of reusing
    /// (`pki::SECRET`, `wireguard::SECRET`).
    pub renew: Vec<&'static str>,
    /// Save keys and certificates made while the script ran (and what the
    /// lab pinned).
    pub save_secrets: bool,
    /// `--ttl`: a time to live from now, replacing the script's.
    pub ttl: Option<std::time::Duration>,
    /// Ignore what the lab pinned (images, versions) and pin what is current.
    pub upgrade: bool,
    /// Opened only for its price: `labrun.public_address()` gives a
    /// documentation address instead of asking the network, and nothing is
    /// said of the keys made.
    pub price_only: bool,
}

/// An opened lab: its script run, its declaration prepared.
pub struct Session {
    /// Where the script was found.
    pub found: resolve::Found,
    pub script: Script,
    /// What the state records as where the lab came from.
    pub origin: String,
    /// The `--var` values it was opened with (the state records them too).
    pub vars: BTreeMap<String, String>,
    pub decl: Declaration,
    /// Files the lab declares (`lab:file`).
    pub files: Vec<LabFile>,
    /// The Lua state that ran the script: its after-up steps live here.
    pub lua: Lua,
}

impl Session {
    /// Finds the script `lab` names, runs it and prepares what it declared.
    /// Script errors are [`ScriptError`]s; nothing is called in AWS.
    pub fn open(lab: &str, opts: &Options) -> Result<Session> {
        Session::open_found(resolve::script(lab)?, opts)
    }

    /// Runs the script found at `found` and prepares what it declared.
    pub fn open_found(found: resolve::Found, opts: &Options) -> Result<Session> {
        let script = found.script()?;
        let load = LoadOptions {
            vars: &opts.vars,
            renew: &opts.renew,
            kinds: kinds(),
            ttl: TtlRule {
                given: opts.ttl,
                recorded: Some(Arc::new(|lab: &str| {
                    state::load(lab).ok().flatten().and_then(|s| s.expires)
                })),
            },
            upgrade: opts.upgrade,
            stand_in_address: opts.price_only,
        };
        let loaded = lua::load_lab(&script, &load)?;
        let mut decl = loaded.decl;
        if let Some(pinned) = loaded.lua.app_data_ref::<Pinned>() {
            let state = state::load(&decl.lab)?.unwrap_or_default();
            pins::apply(&mut decl, &state, &pinned);
        }
        prepare(&mut decl, &Aws::offline()).map_err(|e| ScriptError::plain(e.to_string()))?;
        tasks::validate(&loaded.lua)?;
        if let Some(line) = pki::report(&loaded.lua)
            && !opts.price_only
        {
            eprintln!("{line}");
        }
        if opts.save_secrets
            && let Some(store) = loaded.lua.app_data_ref::<LabSecrets>()
        {
            store.save().context("cannot save the lab's secrets")?;
        }
        if opts.save_secrets
            && let Some(pinned) = loaded.lua.app_data_ref::<Pinned>()
        {
            pinned.0.save().context("cannot save the lab's lock")?;
        }
        Ok(Session {
            origin: found.origin(),
            vars: opts.vars.clone(),
            found,
            script,
            decl,
            files: loaded.files,
            lua: loaded.lua,
        })
    }

    /// The lab's name.
    pub fn lab(&self) -> &str {
        &self.decl.lab
    }

    /// The lab's state (empty if it was never up); an error if it is up in
    /// another region than the script now says.
    pub fn state(&self) -> Result<State> {
        let decl = &self.decl;
        let state = state::load(&decl.lab)?.unwrap_or_else(|| State::new(&decl.lab, &decl.region));
        if state.region != decl.region && !state.resources.is_empty() {
            return Err(InputError(format!(
                "lab {} is up in {} but its script now says {}: run `labrun down {}` first",
                decl.lab, state.region, decl.region, decl.lab
            ))
            .into());
        }
        Ok(state)
    }

    /// What `up` would do against `state`.
    pub fn plan(&self, state: &State) -> Plan {
        let aws = Aws::offline();
        plan::plan(&self.decl, state, &|k| aws.schema(k))
    }

    /// The price of every declared resource and the total per hour.
    pub fn prices(&self) -> (Vec<(String, Price)>, f64) {
        let list: Vec<(String, Price)> = (self.decl.resources.iter())
            .map(|(a, r)| (a.clone(), aws::price(&r.kind, &r.props)))
            .collect();
        let total = list.iter().map(|(_, p)| p.hourly).sum();
        (list, total)
    }

    /// The lab's outputs resolved against `state` (null where not known).
    pub fn outputs(&self, state: &State) -> IndexMap<String, serde_json::Value> {
        (self.decl.outputs.iter())
            .map(|(name, (v, _))| {
                let resolved = match v.resolve(&|r| state.attr(&r.address, &r.attr)) {
                    Resolved::Known(j) => j,
                    Resolved::Unknown => serde_json::Value::Null,
                };
                (name.clone(), resolved)
            })
            .collect()
    }

    /// Names of the after-up steps the script declares.
    pub fn steps(&self) -> Vec<String> {
        steps::names(&self.lua)
    }

    /// Pins the images this apply's lookups found in the lab's lock.
    pub fn pin_images(&self, state: &State) -> Result<()> {
        if let Some(pinned) = self.lua.app_data_ref::<Pinned>() {
            pins::record(&self.decl, state, &pinned);
            pinned.0.save().context("cannot save the lab's lock")?;
        }
        Ok(())
    }

    /// Saves the keys and certificates this run made (a renewal `up` was
    /// asked to keep), after copying the old `secrets.json` to a dated
    /// backup beside it; returns the backup's path, if there was a file.
    pub fn save_renewed_secrets(&self) -> Result<Option<std::path::PathBuf>> {
        let folder = crate::lab_folder::LabFolder::of(self.lab())?;
        let backup = match folder.read(crate::lab_folder::SECRETS)? {
            Some(old) => {
                let stamp = time::OffsetDateTime::now_utc()
                    .format(&time::format_description::well_known::Iso8601::DEFAULT)
                    .unwrap_or_default()
                    .replace([':', '-'], "");
                let name = format!("{}.{}", crate::lab_folder::SECRETS, &stamp[..15]);
                Some(folder.write(&name, &old)?)
            }
            None => None,
        };
        if let Some(store) = self.lua.app_data_ref::<LabSecrets>() {
            store.save().context("cannot save the lab's secrets")?;
        }
        Ok(backup)
    }

    /// The lab's secret store as this run left it.
    pub fn secrets(&self) -> Option<LabSecrets> {
        self.lua.app_data_ref::<LabSecrets>().map(|s| s.clone())
    }
}

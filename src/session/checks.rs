//! Checking a lab that is up: opening it from the script its state
//! records, and running the checks the script declares against the lab as
//! its state records it.

use super::live::{live, user_key};
use super::resolve::{self, Found, looks_like_path};
use super::{InputError, Options, Session};
use crate::engine::state::{self, State};
use crate::lua::error::ScriptError;
use crate::lua::modules::checks;
use crate::lua::modules::tasks::Outcome;
use anyhow::Result;
use std::time::Duration;

/// How long a check keeps trying to reach a node: the lab is up, so a node
/// that does not answer by then is down (and the check says why).
const CONNECT_DEADLINE: Duration = Duration::from_secs(15);

impl Session {
    /// Opens a lab that is up, to check it: a name with a state runs the
    /// script its state records with the `--var`s it was brought up with
    /// (`opts.vars` win); a path (or a name without state) runs the script
    /// it names. An input error if the lab is not up.
    pub fn open_up(lab: &str, opts: &Options) -> Result<Session> {
        let recorded = match looks_like_path(lab) {
            false => state::load(lab)?.filter(|s| !s.script.is_empty()),
            true => None,
        };
        let found = match &recorded {
            Some(s) => Found::from_origin(&s.script).ok_or_else(|| {
                InputError(format!(
                    "lab {lab} was brought up from {}, which is gone: name the script instead",
                    s.script
                ))
            })?,
            None => resolve::script(lab)?,
        };
        let mut opts = opts.clone();
        for (k, v) in recorded.iter().flat_map(|s| &s.vars) {
            opts.vars.entry(k.clone()).or_insert_with(|| v.clone());
        }
        let session = Session::open_found(found, &opts)?;
        let name = session.lab().to_string();
        if recorded.is_some() && name != lab {
            return Err(InputError(format!(
                "lab {lab} was brought up from {}, which now declares lab {name}",
                session.origin
            ))
            .into());
        }
        if state::load(&name)?.is_none() {
            return Err(InputError(format!("lab {name} is not up: `labrun up` it first")).into());
        }
        Ok(session)
    }

    /// Names of the checks the script declares.
    pub fn checks(&self) -> Vec<String> {
        checks::names(&self.lua)
    }

    /// Runs the checks `asked` names and those they need first (every
    /// check when `asked` is empty) against the lab as `state` records
    /// it; `on_done` sees each end. Returns each check run and its outcome.
    pub async fn check(
        &self,
        state: &State,
        asked: &[String],
        on_done: impl Fn(&str, &Outcome),
    ) -> Result<Vec<(String, Outcome)>> {
        let wanted = match asked {
            [] => None,
            _ => Some(checks::needed(&self.lua, asked).map_err(|unknown| {
                InputError(format!(
                    "lab {} declares no check named {} (its checks: {})",
                    self.lab(),
                    unknown.join(", "),
                    self.checks().join(", ")
                ))
            })?),
        };
        let key = user_key(self.lab())?;
        let mut live = live(state, key).map_err(ScriptError::plain)?;
        live.connect_within = Some(CONNECT_DEADLINE);
        Ok(checks::run(&self.lua, &live, wanted.as_ref(), on_done).await?)
    }
}

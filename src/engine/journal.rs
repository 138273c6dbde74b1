//! The state shared by the tasks of an apply or destroy: every change is
//! written to disk before the caller goes on.

use super::state::{self, State};
use anyhow::Result;
use std::sync::Mutex;

/// The lab state behind a lock, saved after every change.
#[derive(Debug)]
pub struct Journal {
    state: Mutex<State>,
}

impl Journal {
    /// Wraps a loaded (or new) state.
    pub fn new(state: State) -> Journal {
        Journal {
            state: Mutex::new(state),
        }
    }

    /// Changes the state and writes it to disk before returning.
    pub fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> Result<R> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let r = f(&mut s);
        state::save(&s)?;
        Ok(r)
    }

    /// Reads the state.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// A copy of the current state.
    pub fn snapshot(&self) -> State {
        self.read(State::clone)
    }
}

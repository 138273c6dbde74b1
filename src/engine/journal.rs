//! The state shared by the tasks of an apply or destroy: every change is
//! written to disk, in the order the changes were made, by one writer
//! thread, so a task waiting for its change to reach the disk never holds
//! up the others (an apply's operations all run on one task).

use super::state::{self, State};
use anyhow::{Result, anyhow};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// Who waits for a write, and how.
enum Waiter {
    /// A thread, blocked.
    Thread(mpsc::Sender<Result<()>>),
    /// An async task.
    Task(oneshot::Sender<Result<()>>),
    /// No one: a later awaited write comes after it.
    Nobody,
}

/// The lab state behind a lock, saved after every change.
#[derive(Debug)]
pub struct Journal {
    state: Mutex<State>,
    writes: Option<mpsc::Sender<(State, Waiter)>>,
    writer: Option<JoinHandle<()>>,
}

impl Journal {
    /// Wraps a loaded (or new) state.
    pub fn new(state: State) -> Journal {
        let (writes, queue) = mpsc::channel::<(State, Waiter)>();
        let writer = std::thread::spawn(move || {
            for (state, waiter) in queue {
                let saved = state::save(&state);
                match waiter {
                    Waiter::Thread(done) => drop(done.send(saved)),
                    Waiter::Task(done) => drop(done.send(saved)),
                    Waiter::Nobody => {
                        if let Err(e) = saved {
                            tracing::error!("cannot save the state of lab {}: {e:#}", state.lab);
                        }
                    }
                }
            }
        });
        Journal {
            state: Mutex::new(state),
            writes: Some(writes),
            writer: Some(writer),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the state and queues it for writing, in order.
    fn change<R>(&self, f: impl FnOnce(&mut State) -> R, waiter: Waiter) -> Result<R> {
        let mut s = self.lock();
        let r = f(&mut s);
        self.writes
            .as_ref()
            .ok_or_else(|| anyhow!("the state writer has stopped"))?
            .send((s.clone(), waiter))
            .map_err(|_| anyhow!("the state writer has stopped"))?;
        Ok(r)
    }

    /// Changes the state and writes it to disk before returning.
    pub fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> Result<R> {
        let (done, saved) = mpsc::channel();
        let r = self.change(f, Waiter::Thread(done))?;
        saved
            .recv()
            .map_err(|_| anyhow!("the state writer has stopped"))??;
        Ok(r)
    }

    /// Changes the state; it is on disk when this returns, other tasks going
    /// on meanwhile.
    pub async fn commit<R>(&self, f: impl FnOnce(&mut State) -> R) -> Result<R> {
        let (done, saved) = oneshot::channel();
        let r = self.change(f, Waiter::Task(done))?;
        saved
            .await
            .map_err(|_| anyhow!("the state writer has stopped"))??;
        Ok(r)
    }

    /// Changes the state and queues it for writing without waiting: a
    /// later [`Journal::commit`] or [`Journal::update`] returns only once
    /// this is on disk too.
    pub fn record(&self, f: impl FnOnce(&mut State)) {
        if let Err(e) = self.change(f, Waiter::Nobody) {
            tracing::error!("{e:#}");
        }
    }

    /// Reads the state.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.lock())
    }

    /// A copy of the current state.
    pub fn snapshot(&self) -> State {
        self.read(State::clone)
    }
}

impl Drop for Journal {
    /// Waits until every change queued is on disk.
    fn drop(&mut self) {
        drop(self.writes.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

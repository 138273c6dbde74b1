//! Running what was typed: on the tokio runtime, raced against Ctrl-C. A
//! call waiting on the network (a long `node:run`) is dropped at once; Lua
//! busy in a loop stops at the next check of its instruction hook.

use super::input::code_of;
use crate::lua::error::ScriptError;
use mlua::{HookTriggers, Lua, MultiValue, VmState};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

/// How an evaluation ended badly.
#[derive(Debug)]
pub enum Failed {
    /// A syntax or runtime error, with its `stdin:line` or `file:line`.
    Script(ScriptError),
    /// Ctrl-C.
    Interrupted,
}

/// Ctrl-C while something runs.
#[derive(Clone)]
pub struct Interrupt {
    flag: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

const INTERRUPTED: &str = "interrupted";

impl Interrupt {
    /// Listens for Ctrl-C from now on (the process is no longer ended by
    /// it). The handler is installed here, before the line editor exists:
    /// rustyline saves SIGINT's handler while it reads a line and puts it
    /// back after, so one installed meanwhile would be lost.
    pub fn listen() -> std::io::Result<Interrupt> {
        use tokio::signal::unix::{SignalKind, signal};
        let me = Interrupt {
            flag: Arc::new(AtomicBool::new(false)),
            notify: Arc::new(Notify::new()),
        };
        let mut sigint = signal(SignalKind::interrupt())?;
        let (flag, notify) = (me.flag.clone(), me.notify.clone());
        tokio::spawn(async move {
            while sigint.recv().await.is_some() {
                flag.store(true, Ordering::SeqCst);
                notify.notify_waiters();
            }
        });
        Ok(me)
    }

    /// Makes Lua code running in `lua` stop when Ctrl-C is pressed.
    pub fn hook(&self, lua: &Lua) -> mlua::Result<()> {
        let flag = self.flag.clone();
        lua.set_global_hook(
            HookTriggers::new().every_nth_instruction(10_000),
            move |_, _| {
                if flag.load(Ordering::SeqCst) {
                    Err(mlua::Error::runtime(INTERRUPTED))
                } else {
                    Ok(VmState::Continue)
                }
            },
        )
    }

    /// Runs `fut` until it ends or Ctrl-C is pressed (then `None`).
    pub async fn run<F: Future>(&self, fut: F) -> Option<F::Output> {
        self.flag.store(false, Ordering::SeqCst);
        let notified = self.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        tokio::select! {
            out = fut => Some(out),
            _ = notified => None,
        }
    }

    fn pressed(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

/// Evaluates one input in `lua`; its values (none for statements).
pub async fn eval(lua: &Lua, input: &str, interrupt: &Interrupt) -> Result<MultiValue, Failed> {
    let code = code_of(lua, input);
    let f = lua
        .load(code)
        .set_name("=stdin")
        .into_function()
        .map_err(|e| Failed::Script(e.into()))?;
    match interrupt.run(f.call_async::<MultiValue>(())).await {
        None => Err(Failed::Interrupted),
        Some(Err(_)) if interrupt.pressed() => Err(Failed::Interrupted),
        Some(Err(e)) => Err(Failed::Script(e.into())),
        Some(Ok(values)) => Ok(values),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn values_errors_with_their_line_and_a_stopped_loop() {
        let lua = Lua::new();
        let interrupt = Interrupt::listen().unwrap();
        interrupt.hook(&lua).unwrap();
        let v = eval(&lua, "1 + 2", &interrupt).await.unwrap();
        assert_eq!(v.len(), 1);
        assert!(eval(&lua, "x = 5", &interrupt).await.unwrap().is_empty());
        match eval(&lua, "local a = 1\nerror('boom')", &interrupt).await {
            Err(Failed::Script(e)) => assert_eq!(e.message, "stdin:2: boom"),
            other => panic!("{other:?}"),
        }
        // A busy loop stops once the flag is up.
        let flag = interrupt.flag.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            flag.store(true, Ordering::SeqCst);
        });
        interrupt.flag.store(false, Ordering::SeqCst);
        let f = lua.load("while true do end").into_function().unwrap();
        let r = f.call_async::<()>(()).await;
        assert!(r.unwrap_err().to_string().contains(INTERRUPTED));
    }
}

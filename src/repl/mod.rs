//! `labrun repl [LAB]`: Lua at a prompt, on rustyline. With a lab, its
//! script runs as for `plan` (the REPL stands on the same [`Session`]),
//! and its state brings `lab`, `nodes` and `aws` (see [`globals`]); the
//! commands (see [`commands`]) plan, apply and destroy it through the
//! CLI's own code paths.

mod commands;
mod eval;
mod globals;
mod input;
mod pretty;

use crate::cli::plan_view;
use crate::engine::state::{self, State};
use crate::lab_folder::home;
use crate::session::{self, Session};
use anyhow::{Context, Result};
use commands::After;
use eval::{Failed, Interrupt};
use input::ReplHelper;
use mlua::Lua;
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{Config, Editor};
use std::process::ExitCode;

/// The history file under the labrun home.
const HISTORY: &str = "repl_history";

/// A lab opened in the REPL.
struct Opened {
    /// How it was named on the command line.
    arg: String,
    opts: session::Options,
    session: Session,
}

/// The REPL's Lua state and the lab it works on.
pub struct Repl {
    lua: Lua,
    lab: Option<Opened>,
    interrupt: Interrupt,
}

impl Repl {
    /// The lab's state, or an empty one if it is not up.
    fn state(&self) -> Result<Option<State>> {
        match &self.lab {
            Some(o) => Ok(Some(o.session.state()?)),
            None => Ok(None),
        }
    }

    /// Sets `lab`, `nodes` and `aws` again from the lab's state on disk.
    fn refresh(&self) -> Result<()> {
        if let Some(s) = self.state()? {
            globals::install(&self.lua, &s)?;
        }
        Ok(())
    }

    /// Reads the script and stdlib again, shows what changed against the
    /// state, and moves to the new Lua state. On a script error the old
    /// state stays.
    fn reload(&mut self) -> Result<()> {
        let Some(opened) = &self.lab else {
            return Ok(());
        };
        let session = Session::open(&opened.arg, &opened.opts)?;
        let state = session.state()?;
        plan_view::print(&session, &session.plan(&state), &state, false);
        self.interrupt.hook(&session.lua)?;
        globals::install(&session.lua, &state)?;
        self.lua = session.lua.clone();
        if let Some(o) = self.lab.as_mut() {
            o.session = session;
        }
        Ok(())
    }

    /// The values an evaluation produced, shown.
    fn show(&self, values: &mlua::MultiValue) -> Vec<String> {
        let live = self.state().ok().flatten();
        let attrs = live.as_ref().map(|s| crate::session::live::live(s, None));
        let attrs = attrs.and_then(Result::ok).map(|l| l.attrs);
        let printer = pretty::Live {
            attrs: attrs.as_ref(),
        };
        values.iter().map(|v| pretty::show(v, &printer)).collect()
    }
}

/// A script error with its traceback, unless that only names the line typed.
fn error_text(mut e: crate::lua::error::ScriptError) -> String {
    let only_typed = e.traceback.as_deref().is_some_and(|tb| {
        tb.lines()
            .skip(1)
            .all(|l| l.trim().starts_with("stdin:") && l.ends_with("in main chunk"))
    });
    if only_typed {
        e.traceback = None;
    }
    e.to_string()
}

fn banner(repl: &Repl) -> Result<String> {
    let version = env!("CARGO_PKG_VERSION");
    let Some(o) = &repl.lab else {
        return Ok(format!(
            "labrun {version}: Lua 5.4 with the labrun modules. :help for help, Ctrl-D to leave."
        ));
    };
    let lab = o.session.lab();
    let what = match state::load(lab)? {
        Some(s) if !s.resources.is_empty() => format!(
            "up: {} resources, {} nodes",
            s.resources.len(),
            s.nodes.len()
        ),
        _ => "not up (:up brings it up)".into(),
    };
    Ok(format!(
        "labrun {version}: lab {lab} from {}, {what}.\nGlobals: lab, nodes, aws, labrun. :help for help, Ctrl-D to leave.",
        o.session.found.describe()
    ))
}

/// Runs the REPL on lab `lab` (a script or name), or on none.
pub async fn run(lab: Option<&str>, opts: session::Options) -> Result<ExitCode> {
    let interrupt = Interrupt::listen().context("cannot listen for Ctrl-C")?;
    let (lua, opened) = match lab {
        Some(arg) => {
            let session = Session::open(arg, &opts)?;
            let state = session.state()?;
            globals::install(&session.lua, &state)?;
            let lua = session.lua.clone();
            let opened = Opened {
                arg: arg.to_string(),
                opts,
                session,
            };
            (lua, Some(opened))
        }
        None => (crate::lua::bare(session::kinds())?, None),
    };
    interrupt.hook(&lua)?;
    let mut repl = Repl {
        lua,
        lab: opened,
        interrupt,
    };
    let config = Config::builder().auto_add_history(false).build();
    let mut editor: Editor<ReplHelper, DefaultHistory> =
        Editor::with_config(config).context("cannot start the line editor")?;
    editor.set_helper(Some(ReplHelper::new(repl.lua.clone())));
    let history = home()?.join(HISTORY);
    if let Some(dir) = history.parent() {
        crate::lab_folder::create_private_dir(dir)?;
    }
    let _ = editor.load_history(&history);
    println!("{}", banner(&repl)?);
    let prompt = match &repl.lab {
        Some(o) => format!("{}> ", o.session.lab()),
        None => "> ".into(),
    };
    loop {
        let line = match editor.readline(&prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e).context("cannot read input"),
        };
        if line.trim().is_empty() {
            continue;
        }
        editor.add_history_entry(line.as_str())?;
        if let Some(command) = line.trim().strip_prefix(':') {
            match commands::run(&mut repl, command).await {
                Ok(After::Quit) => break,
                Ok(After::Replaced) => editor.set_helper(Some(ReplHelper::new(repl.lua.clone()))),
                Ok(After::Continue) => {}
                Err(e) => eprintln!("error: {e:#}"),
            }
            continue;
        }
        match eval::eval(&repl.lua, &line, &repl.interrupt).await {
            Ok(values) => {
                for shown in repl.show(&values) {
                    println!("{shown}");
                }
            }
            Err(Failed::Interrupted) => eprintln!("interrupted"),
            Err(Failed::Script(e)) => eprintln!("error: {}", error_text(e)),
        }
    }
    editor
        .save_history(&history)
        .with_context(|| format!("cannot save {}", history.display()))?;
    Ok(ExitCode::SUCCESS)
}

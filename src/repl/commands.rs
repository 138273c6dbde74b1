//! The REPL's commands: `:help`, `:reload`, `:plan`, `:up`, `:down`,
//! `:status`, `:quit`. Those that change the lab go through the CLI's own
//! code paths, which ask before changing anything.

use super::Repl;
use crate::cli::down::{Down, down_lab};
use crate::cli::up::{Apply, apply_session};
use crate::cli::{plan_view, status};
use crate::engine::state;
use anyhow::Result;

/// What the loop does after a command.
#[derive(Debug, PartialEq, Eq)]
pub enum After {
    Continue,
    /// The Lua state was replaced (completion must follow it).
    Replaced,
    Quit,
}

const HELP: &str = "\
Type Lua: `=expr` or a bare expression prints its value; statements run.
A chunk Lua finds incomplete (an open function, table or string) continues on the next line.
Tab completes globals, fields after `.` and methods after `:`. Ctrl-C cancels the line or
stops what runs (a long node:run); Ctrl-D leaves.

With a lab:
  lab            name, region, expires_at, resources[address] (id and attributes), outputs
  nodes[name]    :run(cmd [, {stdin, timeout, check}]) -> {status, stdout, stderr, ok},
                 :put(path, contents [, {mode, sudo}]), :get(path [, {sudo}]),
                 :shell() (the system ssh with the lab's ssh_config)
  aws            .instance(name) as EC2 describes it, .console(name) its console output
                 (where Ignition errors show); read-only
  labrun.*       every module, as in lab scripts

Commands:
  :help          this text
  :reload        read the script and the stdlib again; show what changed against the state
  :plan          what :up would do, with prices
  :up            apply the script (asks first), then reload lab and nodes
  :down          destroy the lab (asks first)
  :status        resources, uptime, cost, time to live
  :quit          leave (or Ctrl-D)";

/// Runs command `line` (without its `:`).
pub async fn run(repl: &mut Repl, line: &str) -> Result<After> {
    let word = line.split_whitespace().next().unwrap_or_default();
    if matches!(word, "quit" | "q" | "exit") {
        return Ok(After::Quit);
    }
    if matches!(word, "help" | "h" | "?") {
        println!("{HELP}");
        return Ok(After::Continue);
    }
    let Some(opened) = &repl.lab else {
        println!("No lab is loaded: start `labrun repl LAB` to use :{word}.");
        return Ok(After::Continue);
    };
    let lab = opened.session.lab().to_string();
    match word {
        "reload" => {
            repl.reload()?;
            return Ok(After::Replaced);
        }
        "plan" => {
            let session = &opened.session;
            let state = session.state()?;
            plan_view::print(session, &session.plan(&state), &state, false);
        }
        "status" => match state::load(&lab)? {
            Some(s) => status::print(&s),
            None => println!("Lab {lab} is not up."),
        },
        "up" => {
            let how = Apply {
                yes: false,
                json: false,
                all: false,
                renews: false,
                parallelism: 10,
                checks: true,
            };
            match repl
                .interrupt
                .run(apply_session(&opened.session, &how))
                .await
            {
                Some(r) => drop(r?),
                None => println!("interrupted: the state holds what was done; :up again goes on"),
            }
            repl.refresh()?;
        }
        "down" => {
            let how = Down {
                yes: false,
                region: None,
                parallelism: 10,
                wait: crate::engine::delete::Retry::default().deadline,
            };
            match repl.interrupt.run(down_lab(&lab, &how)).await {
                Some(r) => drop(r?),
                None => println!("interrupted: :down again finishes the job"),
            }
            repl.refresh()?;
        }
        other => println!("Unknown command :{other} (:help lists them)."),
    }
    Ok(After::Continue)
}

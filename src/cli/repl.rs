//! `labrun repl [LAB]`: the interactive prompt (see [`crate::repl`]).

use super::ReplArgs;
use crate::session;
use anyhow::Result;
use std::process::ExitCode;

/// `labrun repl`.
pub async fn repl(args: ReplArgs) -> Result<ExitCode> {
    let opts = session::Options {
        vars: args.vars.into_iter().collect(),
        save_secrets: true,
        ..Default::default()
    };
    crate::repl::run(args.lab.as_deref(), opts).await
}

//! `labrun completions SHELL` and `labrun man`: both made from the clap
//! definitions of the commands, so they never drift from them.

use super::{Cli, CompletionsArgs};
use anyhow::Result;
use clap::CommandFactory;
use std::io::Write;
use std::process::ExitCode;

/// `labrun completions`.
pub fn completions(args: CompletionsArgs) -> Result<ExitCode> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "labrun", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

/// `labrun man`: the page of labrun with a section per command.
pub fn man() -> Result<ExitCode> {
    let cmd = Cli::command();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = std::io::stdout().lock();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    // The commands are sections of this page, not pages of their own.
    let mut commands = Vec::new();
    man.render_subcommands_section(&mut commands)?;
    let commands = String::from_utf8_lossy(&commands).to_string();
    let commands = commands.lines().map(|l| match l.strip_prefix("labrun\\-") {
        Some(rest) => format!("\\fBlabrun {}\\fR", rest.trim_end_matches("(1)")),
        None => l.to_string(),
    });
    for line in commands {
        writeln!(out, "{line}")?;
    }
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        // One section per command with its own synopsis and options.
        let page =
            clap_mangen::Man::new(sub.clone().bin_name(format!("labrun {}", sub.get_name())));
        let mut section = Vec::new();
        page.render_synopsis_section(&mut section)?;
        page.render_options_section(&mut section)?;
        let text = String::from_utf8_lossy(&section)
            .replace(
                ".SH SYNOPSIS",
                &format!(".SH \"LABRUN {}\"", sub.get_name().to_uppercase()),
            )
            .replace(".SH OPTIONS", ".SS Options");
        out.write_all(text.as_bytes())?;
    }
    man.render_extra_section(&mut out)?;
    man.render_version_section(&mut out)?;
    Ok(ExitCode::SUCCESS)
}

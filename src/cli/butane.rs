//! `labrun butane`: the official Butane CLI, in process.

use super::{ButaneArgs, InputError};
use crate::ignition::{self, Options};
use anyhow::{Context, Result};
use std::io::Read;
use std::process::ExitCode;

/// `labrun butane [-d DIR] [-o OUT] [-s] [-p] [-c] [-r] [-V] [FILE]`.
pub fn butane(args: ButaneArgs) -> Result<ExitCode> {
    if args.version {
        println!(
            "Butane {} (labrun {})",
            ignition::BUTANE_VERSION,
            env!("CARGO_PKG_VERSION")
        );
        return Ok(ExitCode::SUCCESS);
    }
    let (name, yaml) = match &args.input {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path)
                .map_err(|e| InputError(format!("cannot read {}: {e}", path.display())))?,
        ),
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| InputError(format!("cannot read standard input: {e}")))?;
            (String::new(), text)
        }
    };
    let opts = Options {
        files_dir: args.files_dir,
        strict: args.strict,
    };
    // fcos configs translate to a plain Ignition config: `--raw` changes nothing.
    let _ = args.raw;
    let translation = ignition::translate_yaml_with_warnings(&name, &yaml, &opts)
        .map_err(|e| InputError(e.to_string()))?;
    for w in &translation.warnings {
        eprintln!("{w}");
    }
    if args.check {
        return Ok(ExitCode::SUCCESS);
    }
    let mut json = if args.pretty {
        serde_json::to_string_pretty(&translation.config)?
    } else {
        ignition::to_json_string(&translation.config)
    };
    json.push('\n');
    match &args.output {
        Some(path) => std::fs::write(path, json)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{json}"),
    }
    Ok(ExitCode::SUCCESS)
}

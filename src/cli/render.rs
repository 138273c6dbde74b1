//! `labrun render LAB DIR`: every file the lab generates, written offline for
//! inspection: per node, its Ignition config and the Butane it came from.

use super::RenderArgs;
use crate::aws::user_data;
use crate::engine::state;
use crate::lab_folder::{OutFile, write_private_file, write_tree};
use crate::lua::modules::ignition::Sources;
use crate::session::Session;
use anyhow::{Context, Result};
use std::path::Path;
use std::process::ExitCode;

/// `labrun render`.
pub fn render(args: RenderArgs) -> Result<ExitCode> {
    let loaded = Session::open(&args.lab.lab, &args.lab.options(false))?;
    let sources = loaded.lua.app_data_ref::<Sources>();
    let mut written = 0;
    for (address, r) in &loaded.decl.resources {
        let Some(text) = user_data::of(&loaded.decl, r) else {
            continue;
        };
        let dir = args.dir.join(&r.name);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let mut files = Vec::new();
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(json) => {
                files.push(write(
                    &dir,
                    "config.ign",
                    serde_json::to_string_pretty(&json)? + "\n",
                )?);
                if let Some(source) = sources.as_ref().and_then(|s| s.of(text)) {
                    files.push(write(&dir, "config.bu", source.to_string())?);
                }
            }
            Err(_) => files.push(write(&dir, "user-data", text.to_string())?),
        }
        println!("{address}: {}", files.join(", "));
        written += files.len();
    }
    // Values known only after apply come from the state if the lab is up,
    // else stay as `${address.attr}` placeholders.
    let state = state::load(loaded.lab())?;
    let contents: Vec<Vec<u8>> = (loaded.files.iter())
        .map(|f| f.preview(&|r| state.as_ref()?.attr(&r.address, &r.attr)))
        .collect();
    write_tree(
        &args.dir,
        loaded.files.iter().zip(&contents).map(|(f, c)| OutFile {
            path: &f.path,
            contents: c,
            mode: f.mode,
        }),
    )?;
    if !loaded.files.is_empty() {
        println!("lab files: {}", loaded.files.len());
    }
    written += loaded.files.len();
    println!("{written} file(s) written to {}", args.dir.display());
    Ok(ExitCode::SUCCESS)
}

/// Writes `body` to `dir/name` and returns the path written.
/// Node configs may hold private keys (SSH host keys, certificates' keys): 0600.
fn write(dir: &Path, name: &str, body: String) -> Result<String> {
    let path = dir.join(name);
    write_private_file(&path, body.as_bytes())?;
    Ok(path.display().to_string())
}

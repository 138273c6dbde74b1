//! `labrun render LAB DIR`: every file the lab generates, written offline for
//! inspection: per node, its Ignition config and the Butane it came from,
//! and the lab's declared files. Says which files hold secrets.

use super::RenderArgs;
use crate::aws::user_data;
use crate::engine::state;
use crate::lab_folder::{OutFile, write_private_file, write_tree};
use crate::lua::modules::ignition::Sources;
use crate::secrets::looks_secret;
use crate::session::Session;
use anyhow::{Context, Result};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// One file written.
struct Written {
    path: PathBuf,
    mode: u32,
    secret: bool,
}

/// Writes `body` to `dir/name`, 0600: node configs may hold private keys
/// (SSH host keys, certificates' keys).
fn write_node_file(dir: &Path, name: &str, body: String, secret: bool) -> Result<Written> {
    let path = dir.join(name);
    write_private_file(&path, body.as_bytes())?;
    Ok(Written {
        path,
        mode: 0o600,
        secret,
    })
}

/// `labrun render`.
pub fn render(args: RenderArgs) -> Result<ExitCode> {
    let loaded = Session::open(&args.lab.lab, &args.lab.options(false))?;
    let sources = loaded.lua.app_data_ref::<Sources>();
    let mut written: Vec<Written> = Vec::new();
    for r in loaded.decl.resources.values() {
        let Some(text) = user_data::of(&loaded.decl, r) else {
            continue;
        };
        let dir = args.dir.join(&r.name);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(json) => {
                let source = sources.as_ref().and_then(|s| s.of(text));
                let secret = looks_secret(text.as_bytes())
                    || source.is_some_and(|s| looks_secret(s.as_bytes()));
                let ign = serde_json::to_string_pretty(&json)? + "\n";
                written.push(write_node_file(&dir, "config.ign", ign, secret)?);
                if let Some(source) = source {
                    written.push(write_node_file(
                        &dir,
                        "config.bu",
                        source.to_string(),
                        secret,
                    )?);
                }
            }
            Err(_) => {
                let secret = looks_secret(text.as_bytes());
                written.push(write_node_file(
                    &dir,
                    "user-data",
                    text.to_string(),
                    secret,
                )?);
            }
        }
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
    written.extend(loaded.files.iter().zip(&contents).map(|(f, c)| Written {
        path: args.dir.join(&f.path),
        mode: f.mode,
        secret: looks_secret(c),
    }));
    if args.lab.json {
        let files: Vec<_> = (written.iter())
            .map(|w| json!({ "path": w.path.display().to_string(), "mode": format!("{:04o}", w.mode), "secret": w.secret }))
            .collect();
        let v =
            json!({ "lab": loaded.lab(), "dir": args.dir.display().to_string(), "files": files });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    for w in &written {
        println!(
            "{:04o}  {}{}",
            w.mode,
            w.path.display(),
            if w.secret { "  (holds secrets)" } else { "" }
        );
    }
    let secrets = written.iter().filter(|w| w.secret).count();
    println!(
        "{} file{} written to {}; {secrets} hold{} secrets (private keys): keep them private.",
        written.len(),
        if written.len() == 1 { "" } else { "s" },
        args.dir.display(),
        if secrets == 1 { "s" } else { "" }
    );
    Ok(ExitCode::SUCCESS)
}

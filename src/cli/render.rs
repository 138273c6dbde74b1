//! `labrun render LAB DIR`: every file the lab generates, written offline for
//! inspection: per node, its Ignition config and the Butane it came from.

use super::{RenderArgs, up};
use crate::aws::user_data;
use crate::lua::modules::files::LabFile;
use crate::lua::modules::ignition::Sources;
use anyhow::{Context, Result};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::process::ExitCode;

/// `labrun render`.
pub fn render(args: RenderArgs) -> Result<ExitCode> {
    let (_, loaded) = up::load(&args.lab)?;
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
    write_files(&args.dir, &loaded.files)?;
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
    crate::engine::state::write_private_file(&path, body.as_bytes())?;
    Ok(path.display().to_string())
}

/// Writes the lab's declared files under `dir`, each with its mode (set
/// before anything is written, so a key is never readable by others).
pub fn write_files(dir: &Path, files: &[LabFile]) -> Result<()> {
    for file in files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(file.mode)
            .open(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        out.set_permissions(std::fs::Permissions::from_mode(file.mode))
            .with_context(|| format!("cannot set the mode of {}", path.display()))?;
        out.write_all(&file.contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

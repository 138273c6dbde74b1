//! `labrun render LAB DIR`: every file the lab generates, written offline for inspection.

use super::{RenderArgs, up};
use anyhow::{Context, Result};
use std::process::ExitCode;

/// `labrun render`.
pub fn render(args: RenderArgs) -> Result<ExitCode> {
    let (_, loaded) = up::load(&args.lab)?;
    let mut written = 0;
    for (address, r) in &loaded.decl.resources {
        let Some(data) = r.props.get("user_data").and_then(up::literal) else {
            continue;
        };
        let Some(text) = data.as_str() else { continue };
        let dir = args.dir.join(&r.name);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let (file, body) = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(json) => ("config.ign", serde_json::to_string_pretty(&json)? + "\n"),
            Err(_) => ("user-data", text.to_string()),
        };
        let path = dir.join(file);
        std::fs::write(&path, body).with_context(|| format!("cannot write {}", path.display()))?;
        println!("{address}: {}", path.display());
        written += 1;
    }
    println!("{written} file(s) written to {}", args.dir.display());
    Ok(ExitCode::SUCCESS)
}

//! `labrun wg`: a WireGuard client config that `up` wrote into the lab's
//! folder, printed as text, drawn as a QR code in the terminal, or written
//! as a PNG. Finds the lab without running its script further than its name.

use super::WgArgs;
use crate::lab_folder::{FILES_DIR, LabFolder, WIREGUARD_CLIENTS, write_private_file};
use crate::session::{InputError, resolve};
use crate::wireguard::{qr_png, qr_terminal};
use anyhow::{Context, Result};
use std::path::Path;
use std::process::ExitCode;

/// The clients with a config in `dir`, sorted (none if it does not exist).
fn clients(dir: &Path) -> Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|f| f.strip_suffix(".conf").map(String::from))
        .collect();
    names.sort();
    Ok(names)
}

/// `labrun wg`.
pub fn wg(args: WgArgs) -> Result<ExitCode> {
    let (lab, _) = resolve::lab_name(&args.lab)?;
    let dir = LabFolder::of(&lab)?.path(FILES_DIR).join(WIREGUARD_CLIENTS);
    let clients = clients(&dir)?;
    let listed = clients.join(", ");
    let client = match (args.client, clients.as_slice()) {
        (_, []) => {
            return Err(InputError(format!(
                "lab {lab} has no WireGuard client configs (none in {}): is it up, and does it use labrun.wireguard?",
                dir.display()
            ))
            .into());
        }
        (Some(c), _) if clients.contains(&c) => c,
        (Some(c), _) => {
            return Err(InputError(format!(
                "lab {lab} has no WireGuard client {c} (clients: {listed})"
            ))
            .into());
        }
        (None, [only]) => only.clone(),
        (None, _) => {
            return Err(InputError(format!(
                "lab {lab} has several WireGuard clients: name one of {listed}"
            ))
            .into());
        }
    };
    let path = dir.join(format!("{client}.conf"));
    let config = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if let Some(png) = &args.qr_png {
        let png =
            std::path::absolute(png).with_context(|| format!("cannot write {}", png.display()))?;
        write_private_file(&png, &qr_png(&config)?)?;
        eprintln!("{client}'s config as a QR code: {}", png.display());
    }
    if args.qr {
        println!("{}", qr_terminal(&config)?.trim_end_matches('\n'));
    } else if args.qr_png.is_none() {
        print!("{config}");
    }
    Ok(ExitCode::SUCCESS)
}

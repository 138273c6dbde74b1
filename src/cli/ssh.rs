//! `labrun ssh LAB NODE [-- CMD]`: a shell or a command on a lab node.

use super::{InputError, SshArgs};
use crate::engine::state;
use crate::lab_folder::{LabFolder, SSH_CONFIG};
use crate::session::live::{route, user_key};
use crate::ssh::{Auth, ConnectOptions, Connection, Stream};
use anyhow::{Context, Result};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

/// `labrun ssh`.
pub async fn ssh(args: SshArgs) -> Result<ExitCode> {
    let Some(s) = state::load(&args.lab)? else {
        return Err(InputError(format!("lab {} is not up", args.lab)).into());
    };
    if !s.nodes.contains_key(&args.node) {
        let known: Vec<&str> = s.nodes.keys().map(String::as_str).collect();
        return Err(InputError(format!(
            "lab {} has no node '{}' (nodes: {})",
            args.lab,
            args.node,
            known.join(", ")
        ))
        .into());
    }
    if args.command.is_empty() {
        let config = LabFolder::of(&args.lab)?.path(SSH_CONFIG);
        let status = std::process::Command::new("ssh")
            .arg("-F")
            .arg(&config)
            .arg("-o")
            .arg(format!("ConnectTimeout={}", args.timeout.max(1)))
            .arg(&args.node)
            .status()
            .context("cannot run ssh")?;
        return Ok(ExitCode::from(
            status.code().unwrap_or(1).clamp(0, 255) as u8
        ));
    }
    let key = user_key(&args.lab)?
        .ok_or_else(|| InputError(format!("lab {} has no SSH key", args.lab)))?;
    let route = route(&s.nodes, &args.node).map_err(InputError)?;
    let (node, jumps) = route.split_last().expect("route ends at the node");
    let opts = ConnectOptions {
        deadline: Duration::from_secs(args.timeout),
        ..ConnectOptions::default()
    };
    let auth = Auth::key(key);
    let connect = Connection::connect(node, jumps, &auth, &opts);
    tokio::pin!(connect);
    // Say why nothing happens while a node boots.
    let conn = tokio::select! {
        c = &mut connect => c?,
        _ = tokio::time::sleep(Duration::from_secs(2)) => {
            eprintln!(
                "waiting for {} to answer SSH (up to {} s; it may still be booting)...",
                args.node, args.timeout
            );
            connect.await?
        }
    };
    let mut sink = |stream: Stream, bytes: &[u8]| {
        let _ = match stream {
            Stream::Stdout => std::io::stdout()
                .write_all(bytes)
                .and(std::io::stdout().flush()),
            Stream::Stderr => std::io::stderr().write_all(bytes),
        };
    };
    let out = conn
        .run_streaming(&args.command.join(" "), None, &mut sink)
        .await?;
    Ok(ExitCode::from(out.status.unwrap_or(255).min(255) as u8))
}

//! `labrun proxy LAB [-- CMD...]`: a SOCKS5 proxy on 127.0.0.1 whose
//! connections leave from the lab's gateway, over the lab's SSH connection.
//! The Kubernetes labs' kubeconfigs name it (`proxy-url`), so kubectl
//! reaches their private API server while it runs.

use super::InputError;
use super::kubeconfig;
use crate::engine::state::{self, NodeState};
use crate::session::live::{route, user_key};
use crate::session::resolve::lab_name;
use crate::ssh::socks::{Exit, default_port, serve};
use crate::ssh::{Auth, ConnectOptions};
use anyhow::{Context, Result};
use clap::Args;
use indexmap::IndexMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

#[derive(Args, Debug)]
/// The arguments of `labrun proxy`.
pub struct ProxyArgs {
    /// Lab name or script.
    pub lab: String,
    /// Port on 127.0.0.1 (default: the lab's own, which its kubeconfig names).
    #[arg(long)]
    pub port: Option<u16>,
    /// The node connections leave from (default: the one others jump through).
    #[arg(long)]
    pub via: Option<String>,
    /// Seconds to keep trying to reach it.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// Command to run while the proxy serves, with KUBECONFIG set to the lab's; without one, serve until Ctrl-C.
    #[arg(last = true)]
    pub command: Vec<String>,
}

/// The node connections leave from unless `--via` says: the one other
/// nodes jump through (the gateway), else the first.
fn exit_node(nodes: &IndexMap<String, NodeState>) -> Option<String> {
    (nodes.values().find_map(|n| n.jump.clone())).or_else(|| nodes.keys().next().cloned())
}

/// `labrun proxy`.
pub async fn proxy(args: ProxyArgs) -> Result<ExitCode> {
    let (lab, _) = lab_name(&args.lab)?;
    let Some(s) = state::load(&lab)? else {
        return Err(InputError(format!("lab {lab} is not up")).into());
    };
    let via = args
        .via
        .clone()
        .or_else(|| exit_node(&s.nodes))
        .ok_or_else(|| InputError(format!("lab {lab} has no nodes to leave from")))?;
    let route = route(&s.nodes, &via).map_err(InputError)?;
    let key = user_key(&lab)?.ok_or_else(|| InputError(format!("lab {lab} has no SSH key")))?;
    let opts = ConnectOptions {
        deadline: Duration::from_secs(args.timeout),
        ..ConnectOptions::default()
    };
    let exit = Arc::new(Exit::new(route, Auth::key(key), opts));
    exit.connection().await?;
    let port = args.port.unwrap_or_else(|| default_port(&lab));
    let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
        InputError(format!(
            "cannot serve on 127.0.0.1:{port} ({e}): is `labrun proxy {lab}` running already?"
        ))
    })?;
    let kubeconfig = kubeconfig::path(&lab)?;
    let server = tokio::spawn(serve(listener, exit));
    let code = if args.command.is_empty() {
        eprintln!(
            "SOCKS5 proxy for lab {lab} on 127.0.0.1:{port}, through {via}; Ctrl-C stops it."
        );
        if let Some(k) = &kubeconfig {
            eprintln!(
                "In another terminal: KUBECONFIG={} kubectl get nodes",
                k.display()
            );
        }
        tokio::signal::ctrl_c().await?;
        ExitCode::SUCCESS
    } else {
        let mut command = tokio::process::Command::new(&args.command[0]);
        command.args(&args.command[1..]);
        if let Some(k) = &kubeconfig {
            command.env("KUBECONFIG", k);
        }
        let status = command
            .status()
            .await
            .with_context(|| format!("cannot run {}", args.command[0]))?;
        ExitCode::from(status.code().unwrap_or(1).clamp(0, 255) as u8)
    };
    server.abort();
    Ok(code)
}

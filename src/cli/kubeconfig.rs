//! `labrun kubeconfig LAB [--vpn]`: the path of the lab's kubeconfig.

use super::InputError;
use crate::lab_folder::{FILES_DIR, LabFolder};
use crate::session::resolve::lab_name;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
/// The arguments of `labrun kubeconfig`.
pub struct KubeconfigArgs {
    /// Lab name or script.
    pub lab: String,
    /// The kubeconfig for a machine inside the lab's WireGuard VPN (files/admin-vpn.conf: no proxy).
    #[arg(long)]
    pub vpn: bool,
}

/// The file a lab's kubeconfig is in: `files/admin.conf` of its folder,
/// written by `up` (the Kubernetes labs declare it with `lab:file`).
pub const KUBECONFIG: &str = "admin.conf";

/// The same for a machine inside the lab's WireGuard VPN: the endpoint by
/// its address, no `proxy-url` (labrun.kube.pki declares it too).
pub const VPN_KUBECONFIG: &str = "admin-vpn.conf";

/// The lab's kubeconfig, if `up` wrote one.
pub fn path(lab: &str) -> Result<Option<PathBuf>> {
    file(lab, KUBECONFIG)
}

/// The lab's file `name` of its files/, if `up` wrote it.
fn file(lab: &str, name: &str) -> Result<Option<PathBuf>> {
    let path = LabFolder::of(lab)?.path(FILES_DIR).join(name);
    Ok(path.is_file().then_some(path))
}

/// `labrun kubeconfig`.
pub fn kubeconfig(args: KubeconfigArgs) -> Result<ExitCode> {
    let (lab, _) = lab_name(&args.lab)?;
    let name = if args.vpn { VPN_KUBECONFIG } else { KUBECONFIG };
    let Some(path) = file(&lab, name)? else {
        return Err(InputError(format!(
            "lab {lab} has no kubeconfig (files/{name} of its folder): is it a Kubernetes lab, and up?"
        ))
        .into());
    };
    println!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}

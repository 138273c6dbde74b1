//! `labrun pki show LAB [NAME]`: a lab's certificates from its stored
//! secrets, like kubeadm's `certs check-expiration`. Never shows a private
//! key.

use super::{InputError, PkiShowArgs};
use crate::lab_folder::{LabFolder, SECRETS};
use crate::lua::modules::pki;
use crate::pki::{Material, PrivateKey, expiration_table};
use crate::secrets::LabSecrets;
use crate::session::resolve::lab_name;
use anyhow::Result;
use serde_json::json;
use std::process::ExitCode;

/// What is public about a key: its kind and fingerprint.
fn key_json(key: &PrivateKey) -> serde_json::Value {
    json!({ "key": key.spec(), "fingerprint": key.fingerprint() })
}

/// Keys that have no certificate (e.g. the service-account key).
fn bare_keys(material: &Material) -> impl Iterator<Item = (&String, &PrivateKey)> {
    (material.keys.iter()).filter(|(name, _)| !material.certs.contains_key(*name))
}

/// `labrun pki show`.
pub fn show(args: PkiShowArgs) -> Result<ExitCode> {
    let (lab, _) = lab_name(&args.lab)?;
    let store = LabSecrets::default();
    store.open(&lab)?;
    let material = pki::stored(&store)?;
    if material.keys.is_empty() {
        return Err(InputError(format!(
            "lab {lab} has no PKI (nothing in {})",
            LabFolder::of(&lab)?.path(SECRETS).display()
        ))
        .into());
    }
    match &args.name {
        None => show_all(&lab, &material, args.json)?,
        Some(name) => show_one(&lab, &material, name, args.json)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn show_all(lab: &str, material: &Material, json: bool) -> Result<()> {
    let summaries: Vec<_> = (material.certs.iter())
        .map(|(name, cert)| (name.as_str(), cert.summary()))
        .collect();
    if json {
        let certs: serde_json::Map<_, _> = (summaries.iter())
            .map(|(name, s)| Ok((name.to_string(), serde_json::to_value(s)?)))
            .collect::<Result<_>>()?;
        let keys: serde_json::Map<_, _> = bare_keys(material)
            .map(|(name, key)| (name.clone(), key_json(key)))
            .collect();
        let out = json!({ "lab": lab, "certs": certs, "keys": keys });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!("PKI of lab {lab}:\n");
    print!(
        "{}",
        expiration_table(summaries.iter().map(|(name, s)| (*name, s)))
    );
    let keys: Vec<_> = bare_keys(material).collect();
    if !keys.is_empty() {
        println!(
            "\n{:<25}   {:<8}   PUBLIC KEY",
            "KEY WITHOUT CERTIFICATE", "KIND"
        );
        for (name, key) in keys {
            let kind = key.spec().name();
            println!("{name:<25}   {kind:<8}   {}", key.fingerprint());
        }
    }
    Ok(())
}

fn show_one(lab: &str, material: &Material, name: &str, json: bool) -> Result<()> {
    if let Some(cert) = material.certs.get(name) {
        let summary = cert.summary();
        if json {
            println!("{}", serde_json::to_string_pretty(&summary)?);
        } else {
            print!("{summary}");
        }
    } else if let Some(key) = material.keys.get(name) {
        if json {
            println!("{}", serde_json::to_string_pretty(&key_json(key))?);
        } else {
            println!("key:         {}", key.spec());
            println!("public key:  {}", key.fingerprint());
        }
    } else {
        return Err(InputError(format!(
            "lab {lab} has no certificate or key named {name:?} (`labrun pki show {lab}` lists them)"
        ))
        .into());
    }
    Ok(())
}

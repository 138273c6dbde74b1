//! `labrun labs`, `labrun new` and `labrun setup`: the labs there are, a
//! copy of one to edit, and editor support for a folder of labs.

use super::{InputError, LabsArgs, NewArgs, SetupArgs};
use crate::cost::dollars;
use crate::lua::editor;
use crate::session::resolve::{Found, available};
use crate::session::{self, Session, shipped};
use anyhow::{Context, Result};
use serde_json::json;
use std::process::ExitCode;

/// A lab's description and its price at default variables (or why not).
fn describe(found: &Found) -> (String, Result<f64, String>) {
    let code = found.script().map(|s| s.code).unwrap_or_default();
    // Prices do not depend on who may connect: no address lookup.
    let opts = session::Options {
        price_only: true,
        ..Default::default()
    };
    let price = Session::open_found(found.clone(), &opts)
        .map(|s| s.prices().1)
        .map_err(|e| {
            format!("{e:#}")
                .lines()
                .next()
                .unwrap_or_default()
                .to_string()
        });
    (shipped::description(&code), price)
}

/// `labrun labs`.
pub fn labs(args: LabsArgs) -> Result<ExitCode> {
    let labs = available();
    // Each script runs in its own Lua state: price them side by side.
    let described: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (labs.iter())
            .map(|(_, found)| s.spawn(|| describe(found)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| (String::new(), Err("panicked".into())))
            })
            .collect()
    });
    if args.json {
        let list: Vec<_> = (labs.iter().zip(&described))
            .map(|((name, found), (description, price))| {
                json!({
                    "name": name,
                    "source": found.describe(),
                    "description": description,
                    "hourly": price.as_ref().ok().map(|p| (p * 10_000.0).round() / 10_000.0),
                    "error": price.as_ref().err(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    let width = labs.iter().map(|(n, _)| n.len()).max().unwrap_or(4).max(4);
    println!(
        "{:<width$}  {:>8}  {:<14}  description",
        "lab", "$/hour", "from"
    );
    for ((name, found), (description, price)) in labs.iter().zip(&described) {
        let cost = match price {
            Ok(p) => dollars(*p),
            Err(_) => "error".into(),
        };
        println!(
            "{name:<width$}  {cost:>8}  {:<14}  {description}",
            found.describe()
        );
        if let Err(e) = price {
            println!("{:width$}  {e}", "");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `labrun new`.
pub fn new(args: NewArgs) -> Result<ExitCode> {
    let name = args.lab.strip_suffix(".lua").unwrap_or(&args.lab);
    let Some(code) = shipped::code(name) else {
        return Err(InputError(format!(
            "no shipped lab named '{name}' (shipped: {})",
            shipped::names().join(", ")
        ))
        .into());
    };
    let file = args
        .file
        .unwrap_or_else(|| std::path::PathBuf::from(format!("{name}.lua")));
    // The header goes after the lab's leading comment, which stays its description.
    let split = code
        .lines()
        .take_while(|l| l.trim_start().starts_with("--"))
        .map(|l| l.len() + 1)
        .sum::<usize>()
        .min(code.len());
    let (description, rest) = code.split_at(split);
    let header = format!(
        "{description}--\n-- Copied from labrun {}'s built-in lab `{name}` by `labrun new {name}`.\n\
         -- Edit freely: `labrun {}` runs this copy, no rebuild needed.\n",
        env!("CARGO_PKG_VERSION"),
        file.display()
    );
    let mut out = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(InputError(format!(
                "{} exists; labrun new never overwrites (choose another FILE)",
                file.display()
            ))
            .into());
        }
        Err(e) => return Err(e).with_context(|| format!("cannot write {}", file.display())),
    };
    std::io::Write::write_all(&mut out, format!("{header}{rest}").as_bytes())
        .with_context(|| format!("cannot write {}", file.display()))?;
    println!("wrote {} (from the built-in lab {name})", file.display());
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    if let Some(luarc) = editor::setup(dir)? {
        println!(
            "wrote {} (LuaLS: completion and types for labrun)",
            luarc.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `labrun setup`.
pub fn setup(args: SetupArgs) -> Result<ExitCode> {
    let (defs, stdlib) = editor::write_library()?;
    println!(
        "definitions: {}\nstdlib:      {}",
        defs.display(),
        stdlib.display()
    );
    match editor::setup(&args.dir)? {
        Some(path) => println!("wrote {}", path.display()),
        None => println!(
            "{} exists; its workspace.library should list the two folders above",
            args.dir.join(".luarc.json").display()
        ),
    }
    Ok(ExitCode::SUCCESS)
}

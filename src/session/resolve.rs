//! Finding a lab: a path to a script, or a name looked up in `./labs` and
//! the folders of `LABRUN_PATH`; and the name of the lab an argument means,
//! learnt without running more of a script than its `labrun.lab{...}`.

use super::{InputError, shipped};
use crate::engine::state;
use crate::lab_folder::labs_with_state;
use crate::lua::{self, LoadOptions, Script};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where lab scripts are looked up by name, before the shipped labs:
/// `./labs`, then each folder of `LABRUN_PATH`.
pub fn search_path() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("labs")];
    if let Some(extra) = std::env::var_os("LABRUN_PATH") {
        dirs.extend(std::env::split_paths(&extra));
    }
    dirs
}

/// Whether `lab` reads as a path to a script rather than a lab name.
pub fn looks_like_path(lab: &str) -> bool {
    lab.contains('/') || lab.ends_with(".lua")
}

/// Where a lab's script was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A script on disk.
    Path(PathBuf),
    /// A lab shipped in the binary, by name.
    Shipped(String),
}

impl Found {
    /// What a state records as the lab's origin.
    pub fn origin(&self) -> String {
        match self {
            Found::Path(p) => recorded_path(p),
            Found::Shipped(name) => shipped::chunk_name(name),
        }
    }

    /// The script a state records as a lab's origin, if it is still there.
    pub fn from_origin(origin: &str) -> Option<Found> {
        if let Some(name) = (origin.strip_prefix("builtin:")).and_then(|n| n.strip_suffix(".lua")) {
            return shipped::code(name).map(|_| Found::Shipped(name.to_string()));
        }
        let path = Path::new(origin);
        path.is_file().then(|| Found::Path(path.to_path_buf()))
    }

    /// How plan and up name it.
    pub fn describe(&self) -> String {
        match self {
            Found::Path(p) => p.display().to_string(),
            Found::Shipped(_) => "built in".into(),
        }
    }

    /// The script to run.
    pub fn script(&self) -> Result<Script, crate::lua::error::ScriptError> {
        match self {
            Found::Path(p) => Script::read(p),
            Found::Shipped(name) => Ok(Script {
                name: shipped::chunk_name(name),
                code: shipped::code(name).unwrap_or_default().to_string(),
                dir: None,
            }),
        }
    }
}

/// The script `lab` names, if any: an existing file; else, for a name (or
/// `NAME.lua`), `NAME.lua` in `./labs`, then in each `LABRUN_PATH` folder,
/// then the shipped labs. The first found wins.
pub fn find_script(lab: &str) -> Option<Found> {
    let path = Path::new(lab);
    if path.is_file() {
        return Some(Found::Path(path.to_path_buf()));
    }
    if lab.contains('/') {
        return None;
    }
    let name = lab.strip_suffix(".lua").unwrap_or(lab);
    search_path()
        .into_iter()
        .map(|d| d.join(format!("{name}.lua")))
        .find(|p| p.is_file())
        .map(Found::Path)
        .or_else(|| shipped::code(name).map(|_| Found::Shipped(name.to_string())))
}

/// Every lab a name can reach: (name, where), first found first.
pub fn available() -> Vec<(String, Found)> {
    let mut seen = std::collections::BTreeSet::new();
    let mut labs = Vec::new();
    for dir in search_path() {
        let mut here: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(|e| Some(e.ok()?.path())).collect())
            .unwrap_or_default();
        here.sort();
        for p in here {
            if let Some(name) = p
                .file_name()
                .and_then(|n| n.to_str()?.strip_suffix(".lua"))
                .filter(|_| p.is_file())
                && seen.insert(name.to_string())
            {
                labs.push((name.to_string(), Found::Path(p.clone())));
            }
        }
    }
    for name in shipped::names() {
        if seen.insert(name.to_string()) {
            labs.push((name.to_string(), Found::Shipped(name.to_string())));
        }
    }
    labs
}

/// The script `lab` names, or an input error listing the labs there are.
pub fn script(lab: &str) -> Result<Found, InputError> {
    if Path::new(lab).is_dir() && looks_like_path(lab) {
        return Err(InputError(format!(
            "{lab} is a directory, not a lab script (give the .lua file in it)"
        )));
    }
    find_script(lab).ok_or_else(|| {
        if lab.contains('/') {
            return InputError(format!("{lab}: no such lab script"));
        }
        let names: Vec<String> = available().into_iter().map(|(n, _)| n).collect();
        InputError(format!(
            "no lab named '{lab}' (looked in {} and the built-in labs); available: {}",
            search_path()
                .iter()
                .map(|d| format!("{}/", d.display()))
                .collect::<Vec<_>>()
                .join(", "),
            names.join(", ")
        ))
    })
}

/// The path a state records for a script.
pub fn recorded_path(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// The name of the lab `lab` means, and its region if known: a lab with a
/// state by that name; else the lab a state records the script for; else
/// what the script's `labrun.lab{...}` declares (the script runs only that
/// far, so no key is made); else `lab` itself.
pub fn lab_name(lab: &str) -> anyhow::Result<(String, Option<String>)> {
    if !looks_like_path(lab)
        && let Some(s) = state::load(lab)?
    {
        return Ok((s.lab, Some(s.region)));
    }
    let Some(found) = find_script(lab) else {
        if lab.contains('/') {
            return Err(InputError(format!("{lab}: no such lab script")).into());
        }
        return Ok((lab.to_string(), None));
    };
    let recorded = found.origin();
    for name in labs_with_state()? {
        if let Some(s) = state::load(&name)?
            && s.script == recorded
        {
            return Ok((s.lab, Some(s.region)));
        }
    }
    let opts = LoadOptions {
        vars: &BTreeMap::new(),
        renew: &[],
        kinds: super::kinds(),
        ttl: Default::default(),
        upgrade: false,
        stand_in_address: false,
    };
    let (name, region) = lua::lab_of(&found.script()?, &opts)?;
    Ok((name, Some(region)))
}

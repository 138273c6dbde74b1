//! Finding a lab: a path to a script, or a name looked up in `./labs` and
//! the folders of `LABRUN_PATH`; and the name of the lab an argument means,
//! learnt without running more of a script than its `labrun.lab{...}`.

use super::InputError;
use crate::engine::state;
use crate::lab_folder::labs_with_state;
use crate::lua::{self, LoadOptions, Script};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where lab scripts are looked up by name.
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

/// The script `lab` names, if any: an existing path, or `NAME.lua` on the search path.
pub fn find_script(lab: &str) -> Option<PathBuf> {
    let path = Path::new(lab);
    if path.is_file() {
        return Some(path.to_path_buf());
    }
    if looks_like_path(lab) {
        return None;
    }
    search_path()
        .into_iter()
        .map(|d| d.join(format!("{lab}.lua")))
        .find(|p| p.is_file())
}

/// The script `lab` names, or an input error listing where it was looked for.
pub fn script(lab: &str) -> Result<PathBuf, InputError> {
    find_script(lab).ok_or_else(|| {
        let looked: Vec<String> = search_path()
            .iter()
            .map(|d| d.join(format!("{lab}.lua")).display().to_string())
            .collect();
        InputError(if looks_like_path(lab) {
            format!("{lab}: no such lab script")
        } else {
            format!(
                "no lab script named '{lab}' (looked for {})",
                looked.join(", ")
            )
        })
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
    let Some(path) = find_script(lab) else {
        if looks_like_path(lab) {
            return Err(InputError(format!("{lab}: no such lab script")).into());
        }
        return Ok((lab.to_string(), None));
    };
    let recorded = recorded_path(&path);
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
    };
    let (name, region) = lua::lab_of(&Script::read(&path)?, &opts)?;
    Ok((name, Some(region)))
}

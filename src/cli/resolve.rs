//! Finding a lab: a path to a script, or a name looked up in `./labs` and
//! the folders of `LABRUN_PATH`.

use super::{InputError, LabArgs, up};
use std::path::{Path, PathBuf};

/// Where lab scripts are looked up by name.
pub fn search_path() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("labs")];
    if let Some(extra) = std::env::var_os("LABRUN_PATH") {
        dirs.extend(std::env::split_paths(&extra));
    }
    dirs
}

/// The script `lab` names, if any: an existing path, or `NAME.lua` on the search path.
pub fn find_script(lab: &str) -> Option<PathBuf> {
    let path = Path::new(lab);
    if path.is_file() {
        return Some(path.to_path_buf());
    }
    if lab.contains('/') || lab.ends_with(".lua") {
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
        InputError(if lab.contains('/') || lab.ends_with(".lua") {
            format!("{lab}: no such lab script")
        } else {
            format!(
                "no lab script named '{lab}' (looked for {})",
                looked.join(", ")
            )
        })
    })
}

/// The name of the lab `lab` means: the lab a script path declares (running
/// it), else `lab` itself.
pub fn lab_name(lab: &str) -> anyhow::Result<String> {
    match find_script(lab) {
        Some(path) if lab.ends_with(".lua") || lab.contains('/') => {
            let (_, loaded) = up::load(&LabArgs::plain(path.display().to_string()))?;
            Ok(loaded.decl.lab)
        }
        _ => Ok(lab.to_string()),
    }
}

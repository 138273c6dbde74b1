//! Where `local` contents and `trees` are read from: the files directory.

use std::path::{Component, Path, PathBuf};

/// Why a `local` reference cannot be read without a files directory.
pub(crate) const NO_FILES_DIR: &str = "local file paths are relative to a files directory that must be specified with -d/--files-dir (files_dir in Lua)";

/// `rel` inside the files directory, refusing any path that climbs out of it
/// (checked on the path's text, as Butane does) and any use without one.
pub(crate) fn within(dir: Option<&Path>, rel: &str) -> Result<PathBuf, String> {
    let Some(dir) = dir else {
        return Err(NO_FILES_DIR.into());
    };
    let mut parts: Vec<&str> = Vec::new();
    for comp in Path::new(rel).components() {
        match comp {
            Component::Normal(p) => parts.push(p.to_str().unwrap_or_default()),
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err("local file path traverses outside the files directory".into());
                }
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    Ok(parts.iter().fold(dir.to_path_buf(), |p, part| p.join(part)))
}

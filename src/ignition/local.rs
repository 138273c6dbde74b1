//! Files read from the files directory: `local` contents and `trees`.

use std::path::{Component, Path, PathBuf};

/// `rel` inside the files directory, refusing any path that climbs out of it
/// (checked on the path's text, as Butane does) and any use without one.
pub(crate) fn within(dir: Option<&Path>, rel: &str) -> Result<PathBuf, String> {
    let Some(dir) = dir else {
        return Err(
            "local file paths are relative to a files directory that must be specified (files_dir)"
                .into(),
        );
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

pub(crate) enum TreeEntry {
    File { contents: Vec<u8>, executable: bool },
    Link(String),
}

/// Files and symlinks under `dir`, in lexical order, with paths relative to
/// the tree's root.
pub(crate) fn walk(
    dir: &Path,
    rel: &str,
    found: &mut Vec<(String, TreeEntry)>,
) -> Result<(), String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .collect();
    names.sort_by_key(|e| e.file_name());
    for entry in names {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel_path = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let meta =
            std::fs::symlink_metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if meta.is_dir() {
            walk(&path, &rel_path, found)?;
        } else if meta.is_file() {
            let contents = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            found.push((
                rel_path,
                TreeEntry::File {
                    contents,
                    executable: is_executable(&meta),
                },
            ));
        } else if meta.file_type().is_symlink() {
            let target =
                std::fs::read_link(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            found.push((
                rel_path,
                TreeEntry::Link(target.to_string_lossy().into_owned()),
            ));
        } else {
            return Err(format!(
                "{}: trees may only contain files, directories, and symlinks",
                path.display()
            ));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    false
}

/// Joins an absolute base and a relative path, dropping `.` and empty parts.
pub(crate) fn clean_join(base: &str, rel: &str) -> String {
    let parts: Vec<&str> = base
        .split('/')
        .chain(rel.split('/'))
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

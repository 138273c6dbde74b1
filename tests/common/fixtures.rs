//! Listing fixture files: shared by the ignition unit tests (included with
//! `#[path]`) and the integration tests.

use std::path::{Path, PathBuf};

/// Files of `dir` ending in `ext`, sorted.
pub fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    found.sort();
    found
}

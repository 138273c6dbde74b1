//! The labs that ship with labrun, built into the binary like the stdlib,
//! so `labrun kube.lua` works from any folder and after `cargo install`.

use include_dir::{Dir, include_dir};

/// `labs/` as built into the binary.
static LABS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/labs");

/// The code of the shipped lab `name`.
pub fn code(name: &str) -> Option<&'static str> {
    LABS.get_file(format!("{name}.lua"))
        .and_then(|f| f.contents_utf8())
}

/// Names of the shipped labs, sorted.
pub fn names() -> Vec<&'static str> {
    let mut names: Vec<&str> = LABS
        .files()
        .filter_map(|f| f.path().to_str()?.strip_suffix(".lua"))
        .collect();
    names.sort();
    names
}

/// The chunk name errors in a shipped lab carry.
pub fn chunk_name(name: &str) -> String {
    format!("builtin:{name}.lua")
}

/// A lab's one-line description: the first sentence of its leading comment.
pub fn description(code: &str) -> String {
    let comment: Vec<&str> = code
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .map_while(|l| l.strip_prefix("--"))
        .map(|l| l.trim_start_matches('-').trim())
        .take_while(|l| !l.is_empty())
        .collect();
    let text = comment.join(" ");
    let sentence = text
        .find(". ")
        .map_or(text.as_str(), |end| &text[..=end])
        .trim_end_matches('.');
    sentence.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_lab_is_built_in_with_a_description() {
        let mut on_disk: Vec<String> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/labs"))
                .unwrap()
                .filter_map(|e| {
                    e.ok()?
                        .file_name()
                        .into_string()
                        .ok()?
                        .strip_suffix(".lua")
                        .map(String::from)
                })
                .collect();
        on_disk.sort();
        assert_eq!(names(), on_disk);
        for name in names() {
            assert!(
                !description(code(name).unwrap()).is_empty(),
                "{name} has no description"
            );
        }
        assert_eq!(
            description("-- A NAT instance, cheap.\n-- More here.\n\nlocal x"),
            "A NAT instance, cheap"
        );
        assert_eq!(
            description("-- One sentence\n-- over two lines. Then more.\n"),
            "One sentence over two lines"
        );
    }
}

//! Shell completions and the man page, both made from the clap
//! definitions: they know every command and option, and the shells and
//! groff read them without complaint.

mod common;

use common::{Labrun, feed, text};

fn stdout(labrun: &Labrun, args: &[&str]) -> String {
    let out = labrun.run(args);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_know_every_command_and_bash_reads_them() {
    let labrun = Labrun::offline();
    let bash = stdout(&labrun, &["completions", "bash"]);
    for word in [
        "repl",
        "graph",
        "completions",
        "--ttl",
        "--expired",
        "mermaid",
    ] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    let checked = feed("bash", &["-n"], &bash);
    assert!(checked.status.success(), "{}", text(&checked));
    // In bash, completing `labrun re` offers the commands starting so.
    let script = format!(
        "{bash}\nCOMP_WORDS=(labrun re); COMP_CWORD=1; COMP_LINE='labrun re'; COMP_POINT=9\n\
         _labrun labrun re labrun; printf '%s\\n' \"${{COMPREPLY[@]}}\""
    );
    let out = feed("bash", &[], &script);
    let offered = String::from_utf8_lossy(&out.stdout);
    let mut words: Vec<&str> = offered.split_whitespace().collect();
    words.sort();
    assert_eq!(words, ["render", "repl"], "{}", text(&out));
    for (shell, ttl) in [("zsh", "--ttl"), ("fish", "-l ttl")] {
        let script = stdout(&labrun, &["completions", shell]);
        assert!(script.contains("repl") && script.contains(ttl), "{shell}");
    }
}

#[test]
fn the_man_page_renders_without_warnings_and_documents_each_command() {
    let labrun = Labrun::offline();
    let roff = stdout(&labrun, &["man"]);
    let checked = feed("groff", &["-man", "-Tutf8", "-ww", "-z"], &roff);
    assert!(
        checked.status.success() && checked.stderr.is_empty(),
        "{}",
        text(&checked)
    );
    let page = feed("groff", &["-man", "-Tascii", "-P", "-cbou"], &roff);
    let page = String::from_utf8_lossy(&page.stdout);
    for section in [
        "LABRUN UP",
        "LABRUN REPL",
        "LABRUN GRAPH",
        "LABRUN LS",
        "LABRUN DOWN",
    ] {
        assert!(page.contains(section), "no section {section}:\n{page}");
    }
    for option in ["--ttl", "--expired", "--format", "--deps", "--region"] {
        assert!(page.contains(option), "no {option}:\n{page}");
    }
}

//! The command line itself: words it does not know, and commands that only
//! look at a lab.

mod common;

use common::{Labrun, text};

#[test]
fn an_unknown_word_is_an_error_with_a_suggestion_not_a_lab_name() {
    let labrun = Labrun::offline();
    let out = labrun.run(&["stauts", "nat"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("'stauts'") && err.contains("status"), "{err}");
    assert!(!err.contains("Usage: labrun up"), "{err}");

    // A script path or a lab name still means `up`.
    let out = labrun.run(&["nat", "--var", "type=t4g.nano"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--yes") || err.contains("credentials"),
        "`labrun nat` is `labrun up nat`: {}",
        text(&out)
    );
}

#[test]
fn looking_at_a_lab_by_its_script_makes_no_key() {
    let labrun = Labrun::offline();
    for args in [
        &["status", "labs/nat.lua"][..],
        &["pki", "show", "labs/nat.lua"],
    ] {
        let out = labrun.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("lab nat"), "{args:?} names the lab: {err}");
        assert!(
            !labrun.lab_dir("nat").join("secrets.json").exists(),
            "{args:?} made keys"
        );
    }
}

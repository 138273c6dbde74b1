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

#[test]
fn a_misspelt_instance_type_is_caught_by_plan_with_the_nearest_names() {
    let labrun = Labrun::offline();
    let out = labrun.run(&["plan", "labs/nat.lua", "--var", "type=t4g.nanoo"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("labs/nat.lua:"), "names the line: {err}");
    assert!(
        err.contains("type 't4g.nanoo' is not an EC2 instance type (did you mean t4g.nano"),
        "{err}"
    );
    let out = labrun.run(&["plan", "labs/nat.lua", "--var", "type="]);
    assert_eq!(out.status.code(), Some(2), "an empty type: {}", text(&out));
}

#[test]
fn render_json_lists_every_file_and_which_hold_secrets() {
    let labrun = Labrun::offline();
    let dir = tempfile::tempdir().unwrap();
    let out = labrun.run(&[
        "render",
        "labs/nat.lua",
        dir.path().to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let files = doc["files"].as_array().unwrap();
    let gateway = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("gateway/config.ign"))
        .unwrap();
    assert_eq!(gateway["mode"], "0600");
    assert_eq!(
        gateway["secret"], true,
        "the gateway's config holds its SSH host key"
    );
    let out = labrun.run(&["render", "labs/nat.lua", dir.path().to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("(holds secrets)"));
}

#[test]
fn aws_errors_are_one_line_without_debug_dumps_or_colour() {
    let labrun = Labrun::offline();
    let out = unreachable(&labrun, &["up", "labs/nat.lua", "--yes"], &[])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("CreateVpc: dispatch failure: Connection refused"),
        "{all}"
    );
    for dump in ["DispatchFailure(", "ConnectorError", "\x1b["] {
        assert!(!all.contains(dump), "{dump:?} in {all}");
    }
    let out = labrun.run(&["up", "labs/nat.lua", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no AWS credentials found") && err.contains("aws configure"),
        "{err}"
    );
    assert!(!err.contains("\x1b["), "{err}");
}

#[test]
fn an_unreachable_endpoint_leaves_no_lab_to_list_or_take_down() {
    let labrun = Labrun::offline();
    let run = |args: &[&str]| unreachable(&labrun, args, &[]).output().unwrap();
    let out = run(&["up", "labs/nat.lua", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("Nothing of lab nat was made"),
        "{}",
        text(&out)
    );
    // Nothing was sent, so nothing is listed as the lab's or "deleted".
    let out = run(&["ls", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed, serde_json::json!([]), "{}", text(&out));
    let out = labrun.run(&["status", "nat"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("lab nat is not up"), "{}", text(&out));
    // The keys made for it stay for the next try.
    assert!(labrun.lab_dir("nat").join("secrets.json").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn down_of_an_unknown_lab_says_where_it_looked() {
    let moto = common::Moto::start_without_images();
    let labrun = Labrun::new(&moto);
    let out = labrun
        .command(&["down", "neverup", "--yes"])
        .env("AWS_REGION", "eu-west-1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("nothing tagged labrun:lab=neverup was found in eu-west-1"),
        "{stdout}"
    );
}

#[test]
fn version_names_the_commit() {
    let out = Labrun::offline().run(&["--version"]);
    let v = String::from_utf8_lossy(&out.stdout);
    assert!(v.starts_with("labrun 0.") && v.contains('('), "{v}");
}

#[test]
fn on_a_terminal_plan_rows_fit_its_width_and_a_pipe_gets_them_whole() {
    use expectrl::{Eof, Expect, Session};
    let labrun = Labrun::offline();
    let mut cmd = labrun.command(&["plan", "labs/nat.lua"]);
    cmd.env("COLUMNS", "80");
    let mut pty = Session::spawn(cmd).expect("labrun plan on a pty");
    pty.set_expect_timeout(Some(std::time::Duration::from_secs(60)));
    let seen = pty.expect(Eof).expect("plan ends");
    let shown = String::from_utf8_lossy(seen.as_bytes()).replace('\r', "");
    assert!(shown.contains("Plan: 18 to create"), "{shown}");
    assert!(
        shown.contains("`labrun plan --json` has every field"),
        "{shown}"
    );
    for line in shown.lines() {
        assert!(line.chars().count() < 80, "{} chars: {line}", line.len());
    }
    // Into a pipe, nothing is cut: the user data's digest is on its line.
    let piped = labrun.run(&["plan", "labs/nat.lua"]);
    let piped = String::from_utf8_lossy(&piped.stdout);
    assert!(piped.contains("user_data_s3={object = "), "{piped}");
    assert!(!piped.contains("has every field"), "{piped}");
}

/// `labrun ARGS` against an endpoint nothing listens on, with `env`.
fn unreachable(labrun: &Labrun, args: &[&str], env: &[(&str, &str)]) -> std::process::Command {
    let port = common::sshd::free_port("127.0.0.1");
    let mut c = labrun.command(args);
    c.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("RUST_LOG");
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

#[test]
fn verbosity_flags_and_rust_log_decide_what_stderr_shows() {
    let labrun = Labrun::offline();
    let stderr = |args: &[&str], env: &[(&str, &str)]| {
        let out = unreachable(&labrun, args, env).output().unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let failure = "cannot list labs by tag";
    // By default the retries are warnings; -q leaves only the failure.
    let default = stderr(&["ls"], &[]);
    assert!(
        default.contains("WARN labrun::aws") && default.contains("retrying"),
        "{default}"
    );
    let quiet = stderr(&["-q", "ls"], &[]);
    assert!(
        quiet.contains(failure) && !quiet.contains("retrying"),
        "{quiet}"
    );
    let verbose = stderr(&["-vv", "ls"], &[]);
    assert!(verbose.contains("DEBUG"), "{verbose}");
    // RUST_LOG overrides the flags both ways.
    let off = stderr(&["ls"], &[("RUST_LOG", "off")]);
    assert!(off.contains(failure) && !off.contains("WARN"), "{off}");
    let debug = stderr(&["-q", "ls"], &[("RUST_LOG", "debug")]);
    assert!(debug.contains("DEBUG"), "{debug}");
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    use expectrl::{Eof, Expect, Session};
    let labrun = Labrun::offline();
    let on_pty = |env: &[(&str, &str)]| {
        let mut cmd = unreachable(&labrun, &["ls"], env);
        cmd.env("TERM", "xterm");
        let mut pty = Session::spawn(cmd).expect("labrun on a pty");
        pty.set_expect_timeout(Some(std::time::Duration::from_secs(60)));
        let seen = pty.expect(Eof).expect("ls ends");
        String::from_utf8_lossy(seen.as_bytes()).into_owned()
    };
    let coloured = on_pty(&[]);
    assert!(
        coloured.contains("retrying") && coloured.contains("\x1b["),
        "{coloured:?}"
    );
    let plain = on_pty(&[("NO_COLOR", "1")]);
    assert!(
        plain.contains("retrying") && !plain.contains("\x1b["),
        "{plain:?}"
    );
}

#[test]
fn a_free_one_resource_lab_says_so_in_plain_words() {
    let moto = common::Moto::start_without_images();
    let labrun = Labrun::new(&moto);
    let dir = tempfile::tempdir().unwrap();
    let script = common::script(
        dir.path(),
        "one.lua",
        "local lab = labrun.lab { name = 'one' }\nlab:vpc('v', { cidr = '10.0.0.0/16' })\n",
    );
    let out = labrun.run(&["up", script.to_str().unwrap(), "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    // Not "1 operations", not "It costs -/hour".
    assert!(said.contains(": 1 operation, "), "{said}");
    assert!(said.contains("It costs nothing while up"), "{said}");
    assert!(labrun.run(&["down", "one", "--yes"]).status.success());
}

//! `labrun repl` driven through a pseudo-terminal, as a user types: Lua
//! over several lines, completion, errors with their line, Ctrl-C; and a
//! lab up against moto whose nodes are real sshd behind a gateway.

mod common;

use common::sshd::TestSshd;
use common::{Labrun, Moto, text};
use expectrl::{Eof, Expect, Session};
use labrun::ssh::KeyPair;
use std::path::{Path, PathBuf};
use std::time::Duration;

type Repl = Session<expectrl::process::unix::UnixProcess, expectrl::process::unix::PtyStream>;

/// `labrun repl ARGS` on a pseudo-terminal.
fn repl(labrun: &Labrun, args: &[&str]) -> Repl {
    let mut full = vec!["repl"];
    full.extend_from_slice(args);
    let mut cmd = labrun.command(&full);
    // The pseudo-terminal is the child's standard input.
    cmd.env("TERM", "xterm")
        .stdin(std::process::Stdio::inherit());
    let mut s = Session::spawn(cmd).expect("labrun repl starts on a pty");
    s.set_expect_timeout(Some(Duration::from_secs(60)));
    s
}

/// Waits for `needle`; returns what came before it (with terminal codes).
fn expect(s: &mut Repl, needle: &str) -> String {
    match s.expect(needle) {
        Ok(found) => String::from_utf8_lossy(found.before()).into_owned(),
        Err(e) => panic!("waiting for {needle:?}: {e}"),
    }
}

#[test]
fn lua_at_the_prompt_spans_lines_shows_errors_with_their_line_and_goes_on() {
    let labrun = Labrun::offline();
    let mut s = repl(&labrun, &[]);
    expect(&mut s, "> ");
    // A function over three lines: Lua says the chunk is incomplete until `end`.
    s.send_line("function scale(a, b)").unwrap();
    s.send_line("  return a * 10 + b").unwrap();
    s.send_line("end").unwrap();
    expect(&mut s, "> ");
    s.send_line("scale(4, 2)").unwrap();
    expect(&mut s, "\r\n42\r\n");
    expect(&mut s, "> ");
    // A runtime error on the third line of a chunk names that line.
    s.send_line("do").unwrap();
    s.send_line("  local t = nil").unwrap();
    s.send_line("  return t.field").unwrap();
    s.send_line("end").unwrap();
    expect(
        &mut s,
        "error: stdin:3: attempt to index a nil value (local 't')",
    );
    expect(&mut s, "> ");
    // Still answering; values are pretty-printed.
    s.send_line(r#"=("ok"):rep(2), { 1, nested = { x = "y" } }"#)
        .unwrap();
    expect(&mut s, "\"okok\"\r\n{ 1, nested = { x = \"y\" } }");
    expect(&mut s, "> ");
    // An error inside the stdlib names its file and line.
    s.send_line(r#"require("labrun.coreos").mode({})"#).unwrap();
    expect(&mut s, "labrun/coreos.lua:");
    expect(&mut s, "> ");
    // Ctrl-C stops a busy loop and the REPL answers again.
    s.send_line(r#"print("looping") while true do end"#)
        .unwrap();
    expect(&mut s, "looping\r\n");
    s.send("\x03").unwrap();
    expect(&mut s, "interrupted");
    expect(&mut s, "> ");
    s.send_line("=2 ^ 4").unwrap();
    expect(&mut s, "\r\n16.0\r\n");
    expect(&mut s, "> ");
    s.send("\x04").unwrap();
    s.expect(Eof).unwrap();
    let history = std::fs::read_to_string(labrun.home.path().join("labrun/repl_history")).unwrap();
    assert!(history.contains("scale(4, 2)"), "{history}");
}

const SCRIPT: &str = r#"
local coreos = require "labrun.coreos"
local lab = labrun.lab { name = "repllab" }
local user = labrun.ssh.user_key()
local login = labrun.var("user", "core")
local vpc = lab:vpc("lab", { cidr = "10.10.16.0/20" })
local subnet = lab:subnet("nodes", { vpc = vpc, cidr = "10.10.16.0/24" })
lab:instance("node", { subnet = subnet, type = "t3.micro", image = coreos.ami("stable") })
local gw, node = labrun.ssh.host_key("gateway"), labrun.ssh.host_key("instance-01")
labrun.ssh.node("gateway", { host = "127.0.0.1", port = labrun.var("gw_port", 22), user = login, host_key = gw.public })
labrun.ssh.node("instance-01", { host = "127.0.0.2", port = labrun.var("node_port", 22), user = login,
                                 jump = "gateway", host_key = node.public })
"#;

/// The secret the lab stored under `key`.
fn stored_key(labrun: &Labrun, key: &str) -> KeyPair {
    let text = std::fs::read_to_string(labrun.lab_dir("repllab").join("secrets.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    KeyPair::from_openssh(v[key].as_str().expect(key)).unwrap()
}

fn output(cmd: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(cmd).args(args).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The lab's arguments: its script and the variables that point it at the sshd nodes.
fn lab_args(script: &Path, gw: &TestSshd, node: &TestSshd) -> Vec<String> {
    let mut args = vec![script.display().to_string()];
    for v in [
        format!("gw_port={}", gw.target.port),
        format!("node_port={}", node.target.port),
        format!("user={}", output("id", &["-un"])),
    ] {
        args.extend(["--var".to_string(), v]);
    }
    args
}

#[test]
fn a_lab_up_in_the_emulator_is_one_call_away() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let dir = tempfile::tempdir().unwrap();
    let script: PathBuf = common::script(dir.path(), "repllab.lua", SCRIPT);
    let plan = labrun.run(&["plan", script.to_str().unwrap()]);
    assert!(plan.status.success(), "{}", text(&plan));
    let user = stored_key(&labrun, "ssh.user").public_key();
    let gw = TestSshd::start(
        "127.0.0.1",
        &stored_key(&labrun, "ssh.host.gateway"),
        std::slice::from_ref(&user),
        "AllowTcpForwarding yes",
    );
    let node = TestSshd::start(
        "127.0.0.2",
        &stored_key(&labrun, "ssh.host.instance-01"),
        &[user],
        "",
    );
    let args = lab_args(&script, &gw, &node);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut up = vec!["up", "--yes"];
    up.extend_from_slice(&args);
    let out = labrun.run(&up);
    assert!(out.status.success(), "{}", text(&out));

    let mut s = repl(&labrun, &args);
    expect(&mut s, "up: 3 resources, 2 nodes");
    expect(&mut s, "repllab> ");
    // Tab completes lab.res to lab.resources; resources show ID and attribute.
    s.send("lab.res\t").unwrap();
    expect(&mut s, "lab.resources");
    s.send("\r").unwrap();
    let shown = expect(&mut s, "(10.10.16.0/20)");
    assert!(shown.contains(r#"["vpc.lab"] = vpc.lab vpc-"#), "{shown}");
    expect(&mut s, "repllab> ");
    // A command on the node, through the gateway.
    s.send_line(r#"nodes["instance-01"]:run("hostname")"#)
        .unwrap();
    let hostname = output("hostname", &[]);
    let shown = expect(&mut s, &format!(r#"stdout = "{hostname}\n" }}"#));
    assert!(shown.contains("status = 0"), "{shown}");
    expect(&mut s, "repllab> ");
    assert!(node.log().contains("Accepted publickey"), "{}", node.log());
    // Ctrl-C cuts a long command short.
    s.send_line(r#"nodes["instance-01"]:run("sleep 60")"#)
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    s.send("\x03").unwrap();
    expect(&mut s, "interrupted");
    expect(&mut s, "repllab> ");
    // Read-only AWS helpers.
    s.send_line(r#"aws.instance("node").state"#).unwrap();
    expect(&mut s, r#""running""#);
    expect(&mut s, "repllab> ");
    s.send_line(r#"=type(aws.console("node"))"#).unwrap();
    expect(&mut s, r#""string""#);
    expect(&mut s, "repllab> ");
    // Edit the script on disk; :reload shows what changed against the state.
    let mut edited = std::fs::read_to_string(&script).unwrap();
    edited.push_str("lab:subnet(\"extra\", { vpc = vpc, cidr = \"10.10.17.0/24\" })\n");
    std::fs::write(&script, edited).unwrap();
    s.send_line(":reload").unwrap();
    let shown = expect(&mut s, "Plan: 1 to create, 0 to update");
    assert!(shown.contains("+ subnet.extra"), "{shown}");
    assert!(
        !shown.contains("vpc.lab "),
        "unchanged resources are not listed: {shown}"
    );
    expect(&mut s, "repllab> ");
    s.send_line(":status").unwrap();
    expect(&mut s, "Lab repllab in us-east-1: up");
    expect(&mut s, "repllab> ");
    // An interactive shell on the node with the system ssh, then back.
    s.send_line(r#"nodes["instance-01"]:shell()"#).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    s.send_line("echo inside-$((6 * 7)); exit 3").unwrap();
    expect(&mut s, "inside-42");
    expect(&mut s, "\r\n3\r\n");
    expect(&mut s, "repllab> ");
    // :down asks first; no leaves the lab as it is.
    s.send_line(":down").unwrap();
    expect(&mut s, "Destroy lab repllab in us-east-1 (3 resources)");
    s.send_line("n").unwrap();
    expect(&mut s, "Nothing done.");
    expect(&mut s, "repllab> ");
    assert!(labrun.lab_dir("repllab").join("state.json").exists());
    s.send_line(":down").unwrap();
    expect(&mut s, "[y/N]");
    s.send_line("y").unwrap();
    expect(&mut s, "Lab repllab is gone");
    expect(&mut s, "repllab> ");
    s.send_line("lab.resources").unwrap();
    expect(&mut s, "{}\r\n");
    s.send_line(":quit").unwrap();
    s.expect(Eof).unwrap();
}

//! SSH from labs against real sshd: host keys made by labrun before the
//! nodes exist, the lab's ssh_config used by the system ssh client,
//! after-up steps and `labrun ssh` through a gateway.

mod common;

use common::sshd::{TestSshd, current_user};
use common::{Labrun, text};
use labrun::ssh::KeyPair;
use std::path::Path;

const SCRIPT: &str = r#"
local lab = labrun.lab { name = "sshlab" }
local user = labrun.ssh.user_key()
local gw, node = labrun.ssh.host_key("gw"), labrun.ssh.host_key("node")
local login = labrun.var("user", "core")
local dir = labrun.var("dir", "/tmp")
labrun.ssh.node("gw", { host = "127.0.0.1", port = labrun.var("gw_port", 22), user = login, host_key = gw.public })
labrun.ssh.node("node", { host = "127.0.0.2", port = labrun.var("node_port", 22), user = login, jump = "gw", host_key = node.public })
labrun.after_up("prepare node", function(live)
  local r = live.nodes.node:run("echo hello from the node; echo oops >&2; exit 3", { check = false })
  print(("status=%d stdout=%s stderr=%s"):format(r.status, r.stdout:gsub("\n", ""), r.stderr:gsub("\n", "")))
  live.nodes.node:put(dir .. "/deep/payload.txt", "from a step\n", { mode = "0600" })
  print("read back: " .. live.nodes.node:get(dir .. "/deep/payload.txt"))
end)
"#;

struct Setup {
    labrun: Labrun,
    script: std::path::PathBuf,
    vars: Vec<String>,
    _gw: TestSshd,
    node: TestSshd,
    dir: tempfile::TempDir,
}

/// Generates the lab's keys (plan), then starts sshd on 127.0.0.1 (gateway)
/// and 127.0.0.2 (node) with the host keys labrun made, as Ignition would
/// have installed them on real nodes.
fn setup() -> Setup {
    let labrun = Labrun::offline();
    let dir = tempfile::tempdir().unwrap();
    let script = common::script(dir.path(), "sshlab.lua", SCRIPT);
    let out = labrun.run(&["plan", script.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let user_key = labrun.ssh_key("sshlab", "ssh.user").public_key();
    let gw = TestSshd::start(
        "127.0.0.1",
        &labrun.ssh_key("sshlab", "ssh.host.gw"),
        std::slice::from_ref(&user_key),
        "AllowTcpForwarding yes",
    );
    let node = TestSshd::start(
        "127.0.0.2",
        &labrun.ssh_key("sshlab", "ssh.host.node"),
        &[user_key],
        "",
    );
    let vars = vec![
        format!("gw_port={}", gw.target.port),
        format!("node_port={}", node.target.port),
        format!("user={}", current_user()),
        format!("dir={}", dir.path().display()),
    ];
    Setup {
        labrun,
        script,
        vars,
        _gw: gw,
        node,
        dir,
    }
}

fn up(s: &Setup) -> std::process::Output {
    let mut args = vec![
        "up".to_string(),
        s.script.display().to_string(),
        "--yes".into(),
    ];
    for v in &s.vars {
        args.extend(["--var".to_string(), v.clone()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    s.labrun.run(&args)
}

#[test]
fn after_up_steps_reach_the_node_through_the_gateway() {
    let s = setup();
    let out = up(&s);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("status=3 stdout=hello from the node stderr=oops"),
        "{stdout}"
    );
    assert!(stdout.contains("read back: from a step"), "{stdout}");
    let written = s.dir.path().join("deep/payload.txt");
    assert_eq!(std::fs::read_to_string(&written).unwrap(), "from a step\n");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&written).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        s.node.log().contains("Accepted publickey"),
        "{}",
        s.node.log()
    );
    // Steps done: a second up runs nothing.
    let again = up(&s);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        !String::from_utf8_lossy(&again.stdout).contains("status=3"),
        "{}",
        text(&again)
    );
}

#[test]
fn the_written_ssh_config_works_with_the_system_ssh_client() {
    let s = setup();
    assert!(up(&s).status.success());
    let dir = s.labrun.lab_dir("sshlab");
    for (file, mode) in [
        ("ssh_config", 0o600),
        ("known_hosts", 0o600),
        ("id_ed25519", 0o600),
    ] {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(dir.join(file))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(m, mode, "{file}");
    }
    let config = dir.join("ssh_config");
    let ssh = |host: &str, cmd: &str| {
        std::process::Command::new("ssh")
            .arg("-F")
            .arg(&config)
            .args(["-o", "BatchMode=yes", host, cmd])
            .output()
            .unwrap()
    };
    let out = ssh("node", "true");
    assert!(
        out.status.success(),
        "ssh -F ssh_config node true: {}",
        text(&out)
    );
    let out = ssh("node", "hostname -I 2>/dev/null; echo $SSH_CONNECTION");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("127.0.0.2"),
        "{}",
        text(&out)
    );
    let out = ssh("gw", "true");
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn labrun_ssh_runs_commands_and_refuses_a_changed_host_key() {
    let s = setup();
    assert!(up(&s).status.success());
    let out = s.labrun.run(&[
        "ssh",
        "sshlab",
        "node",
        "--",
        "echo",
        "via-labrun;",
        "exit",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("via-labrun"));
    // Output comes as it is written (`journalctl -f` shows lines at once):
    // the first line is read while the command still runs.
    let mut child = s
        .labrun
        .command(&[
            "ssh",
            "sshlab",
            "node",
            "--",
            "echo first; sleep 30; echo second",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    assert_eq!(first, "first\n");
    assert!(
        child.try_wait().unwrap().is_none(),
        "the command is still running"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    // A node presenting another host key than the one labrun made is refused.
    let impostor = TestSshd::start_on(
        "127.0.0.3",
        common::sshd::free_port("127.0.0.3"),
        &KeyPair::generate("impostor").unwrap(),
        &[s.labrun.ssh_key("sshlab", "ssh.user").public_key()],
        "",
    );
    let state = s.labrun.lab_dir("sshlab").join("state.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    v["nodes"]["node"]["host"] = "127.0.0.3".into();
    v["nodes"]["node"]["port"] = impostor.target.port.into();
    std::fs::write(&state, v.to_string()).unwrap();
    let out = s
        .labrun
        .run(&["ssh", "sshlab", "node", "--timeout", "5", "--", "true"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.to_lowercase().contains("host key"), "{err}");
    assert!(!Path::new(&s.dir.path().join("never")).exists());
    // A node that does not answer: a waiting line, then a whole-second deadline.
    v["nodes"]["node"]["port"] = common::sshd::free_port("127.0.0.3").into();
    std::fs::write(&state, v.to_string()).unwrap();
    let out = s
        .labrun
        .run(&["ssh", "sshlab", "node", "--timeout", "3", "--", "true"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("waiting for node to answer SSH (up to 3 s"),
        "{err}"
    );
    assert!(err.contains("within 3 s:"), "{err}");
}

#[test]
fn keys_are_kept_with_the_lab_across_loads() {
    let s = setup();
    let before = s
        .labrun
        .ssh_key("sshlab", "ssh.host.node")
        .public_key()
        .fingerprint();
    let out = s.labrun.run(&[
        "plan",
        s.script.to_str().unwrap(),
        "--var",
        "user=x",
        "--var",
        "gw_port=1",
        "--var",
        "node_port=2",
        "--var",
        "dir=/tmp",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        s.labrun
            .ssh_key("sshlab", "ssh.host.node")
            .public_key()
            .fingerprint(),
        before
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(s.labrun.lab_dir("sshlab").join("secrets.json"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn labrun_ssh_without_a_command_honours_timeout_too() {
    let s = setup();
    assert!(up(&s).status.success());
    // The gateway now answers TCP but never speaks SSH: the system ssh of
    // the shell mode must give up at --timeout, not wait for ever.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = s.labrun.lab_dir("sshlab").join("ssh_config");
    let text_of = std::fs::read_to_string(&config).unwrap();
    let gw_port = s.vars[0].trim_start_matches("gw_port=");
    let moved = text_of.replace(
        &format!("Port {gw_port}\n"),
        &format!("Port {}\n", silent.local_addr().unwrap().port()),
    );
    assert_ne!(moved, text_of, "the gateway's port is in {config:?}");
    std::fs::write(&config, moved).unwrap();
    let mut child = s
        .labrun
        .command(&["ssh", "sshlab", "gw", "--timeout", "2"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Generous: only to fail rather than hang if the timeout is ignored.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("labrun ssh (shell) ignored --timeout 2");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(!status.success(), "{err}");
    assert!(err.to_lowercase().contains("timed out"), "{err}");
}

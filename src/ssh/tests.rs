//! Tests against real OpenSSH servers on loopback addresses: a "gateway" on
//! 127.0.0.1 and a "node" on 127.0.0.2 that is reached through it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::testsupport::{TestSshd, free_port, write_private};
use super::transfer::shell_quote;
use super::*;

const TIMEOUT: Duration = Duration::from_secs(20);

/// A user key, a gateway sshd that allows forwarding, and a node sshd.
struct Lab {
    user_key: KeyPair,
    gateway: TestSshd,
    node: TestSshd,
}

impl Lab {
    fn start() -> Self {
        let user_key = KeyPair::generate("labrun test user").unwrap();
        let authorized = [user_key.public_key()];
        let gateway = TestSshd::start(
            "127.0.0.1",
            &KeyPair::generate("gateway").unwrap(),
            &authorized,
            "AllowTcpForwarding yes\nLogLevel DEBUG1",
        );
        let node = TestSshd::start(
            "127.0.0.2",
            &KeyPair::generate("node").unwrap(),
            &authorized,
            "AllowTcpForwarding no",
        );
        Self {
            user_key,
            gateway,
            node,
        }
    }

    fn auth(&self) -> Auth {
        Auth::key(self.user_key.clone())
    }

    async fn node(&self) -> Connection {
        Connection::connect(
            &self.node.target,
            std::slice::from_ref(&self.gateway.target),
            &self.auth(),
            &quick(),
        )
        .await
        .unwrap()
    }
}

/// Short deadlines so failing cases fail fast.
fn quick() -> ConnectOptions {
    ConnectOptions {
        deadline: Duration::from_secs(5),
        attempt_timeout: Duration::from_secs(2),
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(500),
        ..ConnectOptions::default()
    }
}

fn command_output(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(output.status.success(), "{command:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn keys_round_trip_and_agree_with_ssh_keygen() {
    let dir = tempfile::tempdir().unwrap();
    let key = KeyPair::generate("me@lab").unwrap();
    let pem = key.to_openssh();
    assert!(pem.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
    let parsed = KeyPair::from_openssh(&pem).unwrap();
    assert_eq!(parsed.public_key(), key.public_key());

    let line = key.public_key().to_openssh();
    assert!(line.starts_with("ssh-ed25519 AAAA") && line.ends_with(" me@lab"));
    assert_eq!(PublicKey::from_openssh(&line).unwrap(), key.public_key());
    assert_ne!(
        KeyPair::generate("other").unwrap().public_key(),
        key.public_key()
    );

    let key_path = dir.path().join("id_ed25519");
    write_private(&key_path, &pem);
    let derived = command_output(Command::new("ssh-keygen").arg("-yf").arg(&key_path));
    assert_eq!(derived.trim(), line);
    let listed = command_output(Command::new("ssh-keygen").arg("-lf").arg(&key_path));
    assert!(listed.contains(&key.public_key().fingerprint()), "{listed}");

    let debug = format!("{key:?}");
    assert!(
        debug.contains("redacted") && !debug.contains("PRIVATE KEY"),
        "{debug}"
    );

    let json = serde_json::to_string(&(&key, key.public_key())).unwrap();
    let (back, public): (KeyPair, PublicKey) = serde_json::from_str(&json).unwrap();
    assert_eq!(back.to_openssh(), pem);
    assert_eq!(public, key.public_key());
    assert!(matches!(
        PublicKey::from_openssh("ssh-ed25519 nonsense"),
        Err(SshError::Key { .. })
    ));
}

#[tokio::test]
async fn runs_commands_on_node_through_gateway() {
    let lab = Lab::start();
    let node = lab.node().await;
    let output = node
        .run("echo hello; id -un; cat", Some(b"piped in"), TIMEOUT)
        .await
        .unwrap();
    assert!(output.success(), "{output:?}");
    assert_eq!(output.stdout_text(), "hello\nroot\npiped in");
    assert_eq!(output.stderr_text(), "");

    let port = lab.node.target.port;
    let gateway_log = lab.gateway.log();
    assert!(
        gateway_log.contains(&format!("target 127.0.0.2 port {port}")),
        "the gateway did not forward to the node:\n{gateway_log}"
    );
    let again = node.run("echo again", None, TIMEOUT).await.unwrap();
    assert_eq!(again.stdout_text(), "again\n");
}

#[tokio::test]
async fn reports_exit_status_stderr_signal_and_timeout() {
    let lab = Lab::start();
    let node = lab.node().await;
    let failed = node
        .run("echo out; echo oops >&2; exit 3", None, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(failed.status, Some(3));
    assert!(!failed.success());
    assert_eq!(failed.stdout_text(), "out\n");
    assert_eq!(failed.stderr_text(), "oops\n");
    assert_eq!(failed.describe_status(), "exit status 3");

    let killed = node.run("kill -TERM $$", None, TIMEOUT).await.unwrap();
    assert_eq!(killed.signal.as_deref(), Some("TERM"), "{killed:?}");

    let start = Instant::now();
    let error = node
        .run("sleep 30", None, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(matches!(error, SshError::CommandTimeout { .. }), "{error}");
    // Far below the 30 s the command would take: it was cut off.
    assert!(start.elapsed() < Duration::from_secs(20));
    let after = node.run("echo still usable", None, TIMEOUT).await.unwrap();
    assert_eq!(after.stdout_text(), "still usable\n");
}

#[tokio::test]
async fn transfers_5_mb_intact() {
    let lab = Lab::start();
    let node = lab.node().await;
    let dir = tempfile::tempdir().unwrap();
    let mut data = vec![0u8; 5 * 1024 * 1024];
    getrandom::fill(&mut data).unwrap();

    let local = dir.path().join("local.bin");
    std::fs::write(&local, &data).unwrap();
    let local_sum = command_output(Command::new("sha256sum").arg(&local));
    let remote = dir.path().join("new dir/it's.bin");
    let remote = remote.to_str().unwrap();
    node.put(&data, remote, 0o640, false).await.unwrap();
    let remote_sum = node
        .run(
            &format!("sha256sum < {0}; stat -c %a {0}", shell_quote(remote)),
            None,
            TIMEOUT,
        )
        .await
        .unwrap();
    let remote_sum = remote_sum.stdout_text();
    let (sum, mode) = remote_sum.split_once(" ").unwrap();
    assert_eq!(sum, local_sum.split_once(' ').unwrap().0);
    assert!(mode.ends_with("\n640\n"), "{remote_sum}");
    let left: Vec<_> = std::fs::read_dir(dir.path().join("new dir"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(left, ["it's.bin"], "temporary upload file left behind");

    let fetched = node.get(remote, false).await.unwrap();
    assert!(fetched == data, "downloaded bytes differ");

    let root_only = dir.path().join("root/secret");
    let root_only = root_only.to_str().unwrap();
    node.put(b"s3cret", root_only, 0o600, true).await.unwrap();
    assert_eq!(node.get(root_only, true).await.unwrap(), b"s3cret");

    let missing = node.get("/nonexistent/file", false).await.unwrap_err();
    let message = missing.to_string();
    assert!(matches!(missing, SshError::Transfer { .. }), "{message}");
    assert!(message.contains("No such file"), "{message}");
}

#[tokio::test]
async fn refuses_a_different_host_key() {
    let lab = Lab::start();
    let impostor = KeyPair::generate("impostor").unwrap().public_key();
    let start = Instant::now();
    // A long retry deadline: had the mismatch been retried, the test would take it.
    let patient = ConnectOptions {
        deadline: Duration::from_secs(60),
        ..quick()
    };

    let gateway = Target {
        host_key: impostor.clone(),
        ..lab.gateway.target.clone()
    };
    let error = Connection::connect(&gateway, &[], &lab.auth(), &patient)
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, SshError::HostKeyMismatch { .. }),
        "{message}"
    );
    assert!(message.contains(&gateway.to_string()), "{message}");
    assert!(message.contains(&impostor.fingerprint()), "{message}");
    assert!(
        message.contains(&lab.gateway.target.host_key.fingerprint()),
        "{message}"
    );

    let node = Target {
        host_key: impostor,
        ..lab.node.target.clone()
    };
    let error = Connection::connect(
        &node,
        std::slice::from_ref(&lab.gateway.target),
        &lab.auth(),
        &patient,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, SshError::HostKeyMismatch { host, .. } if *host == node.to_string()),
        "{error}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "mismatch was retried"
    );
}

#[tokio::test]
async fn dead_port_fails_with_a_timeout_within_the_deadline() {
    let lab = Lab::start();
    let deadline = Duration::from_millis(1500);
    let options = ConnectOptions {
        deadline,
        ..quick()
    };
    let dead = Target {
        port: free_port("127.0.0.1"),
        ..lab.gateway.target.clone()
    };
    let dead_behind_gateway = Target {
        port: free_port("127.0.0.2"),
        ..lab.node.target.clone()
    };
    for (target, jumps) in [
        (&dead, vec![]),
        (&dead_behind_gateway, vec![lab.gateway.target.clone()]),
    ] {
        let start = Instant::now();
        let error = Connection::connect(target, &jumps, &lab.auth(), &options)
            .await
            .unwrap_err();
        let elapsed = start.elapsed();
        assert!(
            matches!(&error, SshError::ConnectTimeout { host, .. } if *host == target.to_string()),
            "{error}"
        );
        assert!(
            elapsed >= deadline - Duration::from_millis(100),
            "{elapsed:?}"
        );
        // It gave up at the deadline, not after some much longer wait.
        assert!(elapsed < deadline + Duration::from_secs(10), "{elapsed:?}");
    }
}

#[tokio::test]
async fn waits_for_a_node_that_is_still_booting() {
    let user_key = KeyPair::generate("user").unwrap();
    let host_key = KeyPair::generate("late node").unwrap();
    let port = free_port("127.0.0.3");
    let target = Target::new("127.0.0.3", "root", host_key.public_key()).with_port(port);
    let auth = Auth::key(user_key.clone());
    let connecting =
        tokio::spawn(async move { Connection::connect(&target, &[], &auth, &quick()).await });
    tokio::time::sleep(Duration::from_millis(800)).await;
    let _sshd = TestSshd::start_on("127.0.0.3", port, &host_key, &[user_key.public_key()], "");
    let node = connecting.await.unwrap().unwrap();
    let output = node.run("true", None, TIMEOUT).await.unwrap();
    assert!(output.success());
}

#[tokio::test]
async fn runs_on_many_connections_at_once() {
    let lab = Lab::start();
    let gateway = Connection::connect(&lab.gateway.target, &[], &lab.auth(), &quick())
        .await
        .unwrap();
    let auth = lab.auth();
    let outputs = parallel(0..6, 3, |i| {
        let (gateway, auth, target) = (&gateway, &auth, &lab.node.target);
        async move {
            let node = gateway.jump(target, auth, &quick()).await?;
            node.run(&format!("echo {i}"), None, TIMEOUT).await
        }
    })
    .await;
    let texts: Vec<String> = outputs
        .into_iter()
        .map(|output| output.unwrap().stdout_text())
        .collect();
    assert_eq!(texts, ["0\n", "1\n", "2\n", "3\n", "4\n", "5\n"]);
}

#[tokio::test]
async fn authenticates_with_an_ssh_agent_and_names_rejected_keys() {
    let lab = Lab::start();
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("agent.sock");
    let key_path = dir.path().join("id_ed25519");
    write_private(&key_path, &lab.user_key.to_openssh());
    let mut agent = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let ready = Instant::now() + Duration::from_secs(5);
    while !socket.exists() {
        assert!(Instant::now() < ready, "ssh-agent did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    command_output(
        Command::new("ssh-add")
            .arg(&key_path)
            .env("SSH_AUTH_SOCK", &socket)
            .stderr(Stdio::null()),
    );

    let wrong_key = KeyPair::generate("stranger").unwrap();
    let via_agent = Auth {
        key: Some(wrong_key.clone()),
        agent_socket: Some(socket.clone()),
    };
    let gateway = Connection::connect(&lab.gateway.target, &[], &via_agent, &quick()).await;
    agent.kill().unwrap();
    agent.wait().unwrap();
    let output = gateway.unwrap().run("true", None, TIMEOUT).await.unwrap();
    assert!(output.success());

    let error = Connection::connect(
        &lab.gateway.target,
        &[],
        &Auth::key(wrong_key.clone()),
        &quick(),
    )
    .await
    .unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, SshError::AuthRejected { .. }), "{message}");
    assert!(
        message.contains(&wrong_key.public_key().fingerprint()),
        "{message}"
    );
}

#[test]
fn renders_ssh_config_and_known_hosts() {
    let key = KeyPair::generate("gw").unwrap().public_key();
    let hosts = [
        ConfigHost {
            alias: "gateway".into(),
            target: Target::new("203.0.113.7", "core", key.clone()),
            proxy_jump: None,
        },
        ConfigHost {
            alias: "control-01".into(),
            target: Target::new("10.10.16.11", "core", key.clone()).with_port(2222),
            proxy_jump: Some("gateway".into()),
        },
    ];
    let config = render_ssh_config(
        &hosts,
        Path::new("/labs/100%/id_ed25519"),
        Path::new("/labs/100%/known_hosts"),
    );
    let expected = r#"# Written by labrun. Use: ssh -F <this file> NODE

Host gateway
    HostName 203.0.113.7
    User core
    IdentityFile "/labs/100%%/id_ed25519"
    IdentitiesOnly yes
    UserKnownHostsFile "/labs/100%%/known_hosts"
    StrictHostKeyChecking yes

Host control-01
    HostName 10.10.16.11
    Port 2222
    User core
    IdentityFile "/labs/100%%/id_ed25519"
    IdentitiesOnly yes
    UserKnownHostsFile "/labs/100%%/known_hosts"
    StrictHostKeyChecking yes
    ProxyJump gateway
"#;
    assert_eq!(config, expected);
    let bare = key.to_openssh_bare();
    assert_eq!(
        render_known_hosts(&hosts),
        format!("203.0.113.7 {bare}\n[10.10.16.11]:2222 {bare}\n")
    );
}

#[test]
fn rendered_ssh_config_works_with_openssh() {
    let lab = Lab::start();
    let dir = tempfile::tempdir().unwrap();
    let hosts = [
        ConfigHost {
            alias: "gateway".into(),
            target: lab.gateway.target.clone(),
            proxy_jump: None,
        },
        ConfigHost {
            alias: "node".into(),
            target: lab.node.target.clone(),
            proxy_jump: Some("gateway".into()),
        },
    ];
    let identity = dir.path().join("id_ed25519");
    let known_hosts = dir.path().join("known_hosts");
    let config = dir.path().join("ssh_config");
    write_private(&identity, &lab.user_key.to_openssh());
    std::fs::write(&known_hosts, render_known_hosts(&hosts)).unwrap();
    std::fs::write(&config, render_ssh_config(&hosts, &identity, &known_hosts)).unwrap();
    let ssh = |args: &[&str]| {
        Command::new("ssh")
            .arg("-F")
            .arg(&config)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };

    let ok = ssh(&["node", "true"]);
    assert!(ok.status.success(), "{ok:?}");
    let port = lab.node.target.port;
    assert!(
        lab.gateway
            .log()
            .contains(&format!("target 127.0.0.2 port {port}"))
    );

    let copied = dir.path().join("copied");
    let scp = Command::new("scp")
        .arg("-F")
        .arg(&config)
        .arg(&known_hosts)
        .arg(format!("node:{}", copied.display()))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(scp.status.success(), "{scp:?}");
    assert_eq!(
        std::fs::read_to_string(&copied).unwrap(),
        std::fs::read_to_string(&known_hosts).unwrap()
    );

    // Strict: a known_hosts entry with another key makes ssh refuse.
    let impostor = KeyPair::generate("impostor").unwrap().public_key();
    let mut wrong = hosts.clone();
    wrong[1].target.host_key = impostor;
    std::fs::write(&known_hosts, render_known_hosts(&wrong)).unwrap();
    let refused = ssh(&["node", "true"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("Host key verification failed"), "{stderr}");
}

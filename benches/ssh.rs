//! SSH throughput against local OpenSSH servers (a gateway on 127.0.0.1 and a
//! node on 127.0.0.2 behind it): 100 sequential commands over one connection,
//! and 20 connections made at once, each running one command.
//!
//! Run with `cargo bench --bench ssh`.
//!
//! sshd runs every command through the user's login shell, and bash sources
//! `~/.bashrc` when started by sshd, so a slow `.bashrc` dominates these
//! figures; the first line printed measures that cost locally for reference.

use std::future::Future;
use std::time::{Duration, Instant};

use labrun::ssh::{
    Auth, ConnectOptions, Connection, KeyPair, PublicKey, SshError, Target, parallel,
};

#[allow(dead_code)]
#[path = "../tests/common/sshd.rs"]
mod testsupport;

use testsupport::TestSshd;

const TIMEOUT: Duration = Duration::from_secs(30);
const SEQUENTIAL: usize = 100;
const CONCURRENT: usize = 20;

#[tokio::main]
async fn main() -> Result<(), SshError> {
    let login = bench_user();
    reference_shell_startup(&login);
    let user_key = KeyPair::generate("bench user")?;
    let authorized: [PublicKey; 1] = [user_key.public_key()];
    let gateway = TestSshd::start(
        "127.0.0.1",
        &KeyPair::generate("gateway")?,
        &authorized,
        "AllowTcpForwarding yes",
    );
    let mut node = TestSshd::start("127.0.0.2", &KeyPair::generate("node")?, &authorized, "");
    let mut gateway = gateway;
    node.target.user = login.clone();
    gateway.target.user = login.clone();
    let auth = Auth::key(user_key);
    let options = ConnectOptions::default();
    let via_gateway = [gateway.target.clone()];

    for (label, jumps) in [("direct", &[][..]), ("via gateway", &via_gateway[..])] {
        let connection = Connection::connect(&node.target, jumps, &auth, &options).await?;
        measure(
            &format!("{SEQUENTIAL} sequential commands, one connection, {label}"),
            SEQUENTIAL,
            async {
                for _ in 0..SEQUENTIAL {
                    check(connection.run("true", None, TIMEOUT).await?);
                }
                Ok(())
            },
        )
        .await?;
    }

    let connect_and_run = |target: &Target, jumps: &[Target]| {
        let (target, jumps, auth, options) = (target.clone(), jumps.to_vec(), &auth, &options);
        async move {
            let connection = Connection::connect(&target, &jumps, auth, options).await?;
            check(connection.run("true", None, TIMEOUT).await?);
            Ok::<_, SshError>(())
        }
    };
    measure(
        &format!("{CONCURRENT} connections at once, direct"),
        CONCURRENT,
        all_ok(parallel(0..CONCURRENT, CONCURRENT, |_| {
            connect_and_run(&node.target, &[])
        })),
    )
    .await?;
    measure(
        &format!("{CONCURRENT} connections at once, each through its own gateway connection"),
        CONCURRENT,
        all_ok(parallel(0..CONCURRENT, CONCURRENT, |_| {
            connect_and_run(&node.target, &via_gateway)
        })),
    )
    .await?;
    let shared = Connection::connect(&gateway.target, &[], &auth, &options).await?;
    measure(
        &format!("{CONCURRENT} connections at once, through one shared gateway connection"),
        CONCURRENT,
        all_ok(parallel(0..CONCURRENT, CONCURRENT, |_| async {
            let connection = shared.jump(&node.target, &auth, &options).await?;
            check(connection.run("true", None, TIMEOUT).await?);
            Ok(())
        })),
    )
    .await
}

/// Who the commands run as. sshd runs every command through the user's
/// login shell, and root's bash sources `~/.bashrc` (slow on these
/// machines); as root, a user `labrun-bench` with `/bin/sh` is made so the
/// figures measure SSH, not a shell's startup files.
fn bench_user() -> String {
    let whoami = std::process::Command::new("id")
        .arg("-un")
        .output()
        .expect("run id");
    let me = String::from_utf8_lossy(&whoami.stdout).trim().to_string();
    if me != "root" {
        return me;
    }
    let exists = std::process::Command::new("id")
        .arg("labrun-bench")
        .output()
        .is_ok_and(|o| o.status.success());
    // Password "*": no password login, but not "locked" (sshd refuses locked accounts).
    let made = if exists {
        std::process::Command::new("usermod")
            .args(["-p", "*", "labrun-bench"])
            .status()
    } else {
        std::process::Command::new("useradd")
            .args(["-M", "-p", "*", "-s", "/bin/sh", "labrun-bench"])
            .status()
    };
    if !made.is_ok_and(|s| s.success()) {
        return me;
    }
    "labrun-bench".into()
}

/// Times the login shell's startup for `login`, as sshd starts it, for reference.
fn reference_shell_startup(login: &str) {
    let shell = if login == "labrun-bench" {
        "sh"
    } else {
        "bash"
    };
    let runs: u32 = 10;
    let start = Instant::now();
    for _ in 0..runs {
        let status = std::process::Command::new(shell)
            .args(["-c", "true"])
            .env_remove("SHLVL")
            .env("SSH_CLIENT", "127.0.0.1 40000 22")
            .status()
            .expect("run the shell");
        assert!(status.success());
    }
    println!(
        "commands run as {login}; its shell ({shell}) starts in {:.1?}",
        start.elapsed() / runs
    );
}

async fn all_ok(results: impl Future<Output = Vec<Result<(), SshError>>>) -> Result<(), SshError> {
    results.await.into_iter().collect()
}

fn check(output: labrun::ssh::Output) {
    assert!(output.success(), "command failed: {output:?}");
}

async fn measure(
    label: &str,
    commands: usize,
    work: impl Future<Output = Result<(), SshError>>,
) -> Result<(), SshError> {
    let start = Instant::now();
    work.await?;
    let elapsed = start.elapsed();
    println!(
        "{label}: {elapsed:.2?}, {:.1} commands/s",
        commands as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}

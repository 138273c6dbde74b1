//! Test harness: a real `moto_server` on loopback, the `labrun` binary run
//! against it, and an EC2 client to check what it did.
#![allow(dead_code, unused_imports)]

pub mod etcd;
pub mod fault_proxy;
pub mod fixtures;
pub mod ignition;
pub mod kube_standins;
pub mod leaks;
pub mod netns;
pub mod openssl;
pub mod sshd;
pub mod standin_nodes;
pub mod tagged;
pub mod wireguard;
pub mod x509;

pub use fault_proxy::FaultProxy;
pub use tagged::{Found, found, lab_buckets, made_twice, tagged};

use labrun::ssh::{KeyPair, PublicKey, Target};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository root (labs/ and stdlib/ live there).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The moto_server to run: `LABRUN_MOTO_SERVER`, the venv `.ci/run` makes, or PATH.
fn moto_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("LABRUN_MOTO_SERVER") {
        return p.into();
    }
    let venv = dirs_home().join(".cache/labrun/moto-venv/bin/moto_server");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("moto_server")
    }
}

fn dirs_home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"))
}

/// A running moto_server, killed on drop.
pub struct Moto {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Moto {
    /// Starts moto with AMI, instance type and key pair validation on and the Fedora CoreOS images.
    pub fn start() -> Moto {
        Moto::start_with(true)
    }

    /// Starts moto without the Fedora CoreOS images: moto 5.2 fails every
    /// EC2 call outside us-east-1 when given its own AMI list, so tests of
    /// other regions (with no instances) use this.
    pub fn start_without_images() -> Moto {
        Moto::start_with(false)
    }

    fn start_with(images: bool) -> Moto {
        let port = sshd::free_port("127.0.0.1");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut command = Command::new(moto_binary());
        if images {
            command.env("MOTO_ENABLE_AMI_VALIDATION", "true").env(
                "MOTO_AMIS_PATH",
                repo().join("tests/fixtures/moto/fcos_amis.json"),
            );
        }
        let child = command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION", "true")
            .env("MOTO_ENABLE_KEYPAIR_VALIDATION", "true")
            .env("MOTO_ENABLE_RECORDING", "true")
            .env("MOTO_RECORDER_FILEPATH", dir.path().join("recording"))
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts (run .ci/run once, or set LABRUN_MOTO_SERVER)");
        let moto = Moto {
            child,
            port,
            _dir: dir,
        };
        let start = Instant::now();
        while moto
            .http("POST", "/moto-api/recorder/reset-recording")
            .is_err()
        {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "moto_server did not come up"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto.http("POST", "/moto-api/recorder/start-recording")
            .expect("recording starts");
        moto
    }

    /// The endpoint URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A plain HTTP/1.0 request to moto's own API.
    pub fn http(&self, method: &str, path: &str) -> std::io::Result<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            s,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
        )?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        let body = out
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        if out.starts_with("HTTP/1.0 200") || out.starts_with("HTTP/1.1 200") {
            Ok(body)
        } else {
            Err(std::io::Error::other(out))
        }
    }

    /// Forgets the requests recorded so far.
    pub fn reset_recording(&self) {
        self.http("POST", "/moto-api/recorder/reset-recording")
            .expect("reset");
        self.http("POST", "/moto-api/recorder/start-recording")
            .expect("start");
    }

    /// The API actions received since the last reset, in order, with their decoded form bodies.
    pub fn recorded(&self) -> Vec<(String, String)> {
        use base64::Engine;
        let text = self
            .http("GET", "/moto-api/recorder/download-recording")
            .expect("recording");
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).ok()?;
                let body = v["body"].as_str().unwrap_or_default();
                let body = if v["body_encoded"].as_bool() == Some(true) {
                    String::from_utf8(
                        base64::engine::general_purpose::STANDARD
                            .decode(body)
                            .ok()?,
                    )
                    .ok()?
                } else {
                    body.to_string()
                };
                let action = body
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("Action="))?
                    .to_string();
                Some((action, body))
            })
            .collect()
    }

    /// Recorded actions that change something.
    pub fn mutating(&self) -> Vec<String> {
        self.recorded()
            .into_iter()
            .map(|(a, _)| a)
            .filter(|a| !["Describe", "Get", "List"].iter().any(|p| a.starts_with(p)))
            .collect()
    }

    /// The SDK configuration of a client talking to this moto.
    fn sdk_config(&self) -> aws_config::SdkConfig {
        let creds = aws_sdk_ec2::config::Credentials::new("test", "test", None, None, "tests");
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(self.url())
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(creds),
            )
            .build()
    }

    /// An EC2 client talking to this moto.
    pub async fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.sdk_config())
    }

    /// An ELBv2 client talking to this moto.
    pub async fn elbv2(&self) -> aws_sdk_elasticloadbalancingv2::Client {
        aws_sdk_elasticloadbalancingv2::Client::new(&self.sdk_config())
    }

    /// An S3 client talking to this moto (path-style, as labrun does).
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk_config())
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A home folder with empty AWS config and credentials files.
fn empty_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("tempdir");
    std::fs::write(home.path().join("aws-config"), "").expect("write");
    std::fs::write(home.path().join("aws-credentials"), "").expect("write");
    home
}

/// Runs `labrun` with a private LABRUN_HOME, against a moto (or none).
pub struct Labrun {
    pub home: tempfile::TempDir,
    pub endpoint: Option<String>,
}

impl Labrun {
    /// A labrun pointed at `moto`.
    pub fn new(moto: &Moto) -> Labrun {
        Labrun::at(moto.url())
    }

    /// A labrun pointed at an endpoint URL (a [`FaultProxy`] in front of moto).
    pub fn at(endpoint: String) -> Labrun {
        Labrun {
            home: tempfile::tempdir().expect("tempdir"),
            endpoint: Some(endpoint),
        }
    }

    /// A labrun with no AWS at all.
    pub fn offline() -> Labrun {
        Labrun {
            home: tempfile::tempdir().expect("tempdir"),
            endpoint: None,
        }
    }

    /// The command, with an environment free of the developer's AWS settings.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_labrun"));
        c.args(args)
            .current_dir(repo())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("LABRUN_HOME", self.home.path().join("labrun"))
            .env("AWS_CONFIG_FILE", self.home.path().join("aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.home.path().join("aws-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            // The emulator's nodes do not exist: no check after `up` reaches
            // for their addresses (tests of checks remove this).
            .env("LABRUN_NO_CHECKS", "true")
            .env("LABRUN_CHECKIP_URL", checkip_url())
            .stdin(Stdio::null());
        if let Some(url) = &self.endpoint {
            c.env("AWS_ENDPOINT_URL", url)
                .env("AWS_ACCESS_KEY_ID", "test")
                .env("AWS_SECRET_ACCESS_KEY", "test");
        }
        c
    }

    /// Runs to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("labrun runs")
    }

    /// The state folder of a lab.
    pub fn lab_dir(&self, lab: &str) -> PathBuf {
        self.home.path().join("labrun/labs").join(lab)
    }

    /// What the lab keeps in its secrets under `key`.
    pub fn secret(&self, lab: &str, key: &str) -> serde_json::Value {
        let text =
            std::fs::read_to_string(self.lab_dir(lab).join("secrets.json")).expect("secrets.json");
        let all: serde_json::Value = serde_json::from_str(&text).expect("secrets.json is JSON");
        all[key].clone()
    }

    /// An SSH key the lab keeps: `ssh.user`, or `ssh.host.NODE`.
    pub fn ssh_key(&self, lab: &str, key: &str) -> KeyPair {
        let pem = self.secret(lab, key);
        KeyPair::from_openssh(pem.as_str().unwrap_or_else(|| panic!("no {key} in {lab}")))
            .expect("an OpenSSH key")
    }
}

/// stdout and stderr of a run, for assertion messages.
pub fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Writes a script into `dir` and returns its path.
pub fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).expect("write script");
    p
}

/// Makes a subnet `cidr` in `vpc` straight in EC2 (tagged by `tags`, if
/// any), as something other than labrun would; its ID.
pub async fn make_subnet(
    ec2: &aws_sdk_ec2::Client,
    vpc: &str,
    cidr: &str,
    tags: Option<aws_sdk_ec2::types::TagSpecification>,
) -> String {
    let out = ec2
        .create_subnet()
        .vpc_id(vpc)
        .cidr_block(cidr)
        .set_tag_specifications(tags.map(|t| vec![t]))
        .send()
        .await
        .expect("CreateSubnet");
    out.subnet.and_then(|s| s.subnet_id).expect("a subnet ID")
}

/// The user data of the instance at `address` (not one it replaced), decoded.
pub async fn user_data(ec2: &aws_sdk_ec2::Client, lab: &str, address: &str) -> String {
    let f = |k: &str, v: &str| {
        aws_sdk_ec2::types::Filter::builder()
            .name(format!("tag:{k}"))
            .values(v)
            .build()
    };
    let out = ec2
        .describe_instances()
        .filters(f("labrun:lab", lab))
        .filters(f("labrun:resource", address))
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("instance-state-name")
                .values("pending")
                .values("running")
                .values("stopped")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let id = out.reservations()[0].instances()[0].instance_id().unwrap();
    let attr = ec2
        .describe_instance_attribute()
        .instance_id(id)
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
        .send()
        .await
        .unwrap();
    let b64 = attr.user_data().and_then(|v| v.value()).unwrap();
    String::from_utf8(
        <base64::engine::general_purpose::GeneralPurpose as base64::Engine>::decode(
            &base64::engine::general_purpose::STANDARD,
            b64,
        )
        .unwrap(),
    )
    .unwrap()
}

/// The median of some measurements.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// A deterministic random number generator for a test's seeded choices.
pub fn seeded(seed: u64) -> proptest::test_runner::TestRng {
    use proptest::test_runner::{RngAlgorithm, TestRng};
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// Runs labrun, SIGKILLing it if it has not ended within `deadline`
/// (then `Err` with what it printed so far).
pub fn run_within(c: &mut Command, deadline: Duration) -> Result<Output, String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut child = c
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"))
        .spawn()
        .expect("labrun runs");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = Output {
        status: status.unwrap_or_default(),
        stdout: std::fs::read(&out).unwrap_or_default(),
        stderr: std::fs::read(&err).unwrap_or_default(),
    };
    match status {
        Some(_) => Ok(output),
        None => Err(format!(
            "still running after {deadline:?}, killed\n{}",
            text(&output)
        )),
    }
}

/// The public address the loopback stand-in for checkip.amazonaws.com
/// gives (tests must not leave loopback): a documentation address.
pub const MY_PUBLIC_IP: &str = "203.0.113.7";

/// A stand-in for https://checkip.amazonaws.com on loopback, started once
/// per test process, answering [`MY_PUBLIC_IP`] as AWS's service does.
pub fn checkip_url() -> String {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    URL.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind checkip");
        let url = format!("http://{}/", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut stream = stream;
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf);
                let body = format!("{MY_PUBLIC_IP}\n");
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        url
    })
    .clone()
}

/// Runs `cmd args` with `input` on its standard input; its output.
pub fn feed(cmd: &str, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(cmd)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd} (.ci/setup installs it): {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write to stdin");
    child.wait_with_output().expect("wait")
}

/// The full Ignition config the instance at `address` boots with: its user
/// data, or (when that is labrun's stub) the config the stub's presigned
/// URL serves, after checking the stub's sha512 against it.
pub async fn node_config(ec2: &aws_sdk_ec2::Client, lab: &str, address: &str) -> String {
    use sha2::Digest;
    let data = user_data(ec2, lab, address).await;
    let Ok(stub) = serde_json::from_str::<serde_json::Value>(&data) else {
        return data;
    };
    let replace = &stub["ignition"]["config"]["replace"];
    let Some(url) = replace["source"].as_str() else {
        return data;
    };
    let config = http_get(url);
    let hash = replace["verification"]["hash"].as_str().unwrap();
    assert_eq!(
        hash,
        format!(
            "sha512-{}",
            hex::encode(sha2::Sha512::digest(config.as_bytes()))
        ),
        "the stub's hash is the served config's"
    );
    config
}

/// The body of a plain-HTTP GET on loopback (a presigned URL of the emulator).
pub fn http_get(url: &str) -> String {
    let rest = url.strip_prefix("http://").expect("a plain-HTTP URL");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut s = TcpStream::connect(host).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let out = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = out.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.contains(" 200 "), "GET {url}: {head}");
    body.to_string()
}

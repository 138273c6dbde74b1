//! Kubeconfigs, read back by kubectl, and used by it against a TLS server
//! holding a certificate of the same PKI.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

use super::super::{CertSpec, ExtendedKeyUsage, KeySpec, Kubeconfig, PrivateKey};
use super::{kube, run};

fn admin(server: &str) -> String {
    let material = &kube().material;
    Kubeconfig {
        cluster: "kubernetes",
        server,
        proxy_url: None,
        ca: &[&material.certs["ca"]],
        user: "kubernetes-admin",
        context: None,
        client_cert: &material.certs["admin.conf"],
        client_key: &material.keys["admin.conf"],
    }
    .render()
}

fn kubectl_view(path: &str, raw: bool) -> Value {
    let mut args = vec!["config", "view", "--kubeconfig", path, "-o", "json"];
    if raw {
        args.push("--raw");
    }
    serde_json::from_str(&run("kubectl", &args)).unwrap()
}

#[test]
fn kubectl_reads_the_kubeconfig_and_its_embedded_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("admin.conf");
    std::fs::write(&path, admin("https://10.10.16.10:6443")).unwrap();
    let path = path.to_str().unwrap();

    let view = kubectl_view(path, false);
    assert_eq!(view["current-context"], "kubernetes-admin@kubernetes");
    assert_eq!(view["contexts"][0]["context"]["user"], "kubernetes-admin");
    assert_eq!(view["contexts"][0]["context"]["cluster"], "kubernetes");
    assert_eq!(
        view["clusters"][0]["cluster"]["server"],
        "https://10.10.16.10:6443"
    );
    assert_eq!(
        view["clusters"][0]["cluster"]["certificate-authority-data"],
        "DATA+OMITTED"
    );

    let raw = kubectl_view(path, true);
    let material = &kube().material;
    let data = |v: &Value| String::from_utf8(BASE64.decode(v.as_str().unwrap()).unwrap()).unwrap();
    let user = &raw["users"][0]["user"];
    assert_eq!(
        data(&raw["clusters"][0]["cluster"]["certificate-authority-data"]),
        material.certs["ca"].to_pem()
    );
    assert_eq!(
        data(&user["client-certificate-data"]),
        material.certs["admin.conf"].to_pem()
    );
    assert_eq!(
        data(&user["client-key-data"]),
        material.keys["admin.conf"].to_pem()
    );
}

#[test]
fn names_that_need_quoting_and_the_proxy_survive() {
    let dir = tempfile::tempdir().unwrap();
    let material = &kube().material;
    let path = dir.path().join("odd.conf");
    let odd = "lab: \"one\" # two\\";
    let text = Kubeconfig {
        cluster: odd,
        server: "https://api.kubelius:6443",
        proxy_url: Some("socks5://127.0.0.1:20001"),
        ca: &[&material.certs["ca"], &material.certs["root-ca"]],
        user: "system:node:control-1",
        context: Some("yes"),
        client_cert: &material.certs["control-1/kubelet.conf"],
        client_key: &material.keys["control-1/kubelet.conf"],
    }
    .render();
    std::fs::write(&path, text).unwrap();
    let view = kubectl_view(path.to_str().unwrap(), true);
    assert_eq!(view["clusters"][0]["name"], odd);
    assert_eq!(view["contexts"][0]["name"], "yes");
    assert_eq!(
        view["clusters"][0]["cluster"]["proxy-url"],
        "socks5://127.0.0.1:20001"
    );
    assert_eq!(view["current-context"], "yes");
    let bundle = BASE64
        .decode(
            view["clusters"][0]["cluster"]["certificate-authority-data"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        String::from_utf8(bundle)
            .unwrap()
            .matches("BEGIN CERTIFICATE")
            .count(),
        2
    );
}

/// Kills the child when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn kubectl_authenticates_with_the_kubeconfig_against_a_server_of_the_same_ca() {
    let dir = tempfile::tempdir().unwrap();
    let material = &kube().material;

    // A server certificate for 127.0.0.1 from the stored kubernetes CA.
    let key = PrivateKey::generate(KeySpec::EcdsaP256).unwrap();
    let spec = CertSpec {
        key: KeySpec::EcdsaP256,
        cn: "kube-apiserver".into(),
        ips: vec![[127, 0, 0, 1].into()],
        ekus: vec![ExtendedKeyUsage::Server],
        ..CertSpec::default()
    };
    let cert = material.ca("ca").unwrap().sign(&spec, &key).unwrap();
    let (cert_path, key_path) = (dir.path().join("server.crt"), dir.path().join("server.key"));
    std::fs::write(&cert_path, cert.to_pem()).unwrap();
    std::fs::write(&key_path, key.to_pem()).unwrap();
    let clients = dir.path().join("clients.pem");
    std::fs::write(
        &clients,
        material.certs["ca"].to_pem() + &material.certs["root-ca"].to_pem(),
    )
    .unwrap();

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Guard(
        Command::new("/usr/bin/openssl")
            .args(["s_server", "-www", "-quiet", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .args([
                "-cert",
                cert_path.to_str().unwrap(),
                "-key",
                key_path.to_str().unwrap(),
            ])
            .args([
                "-Verify",
                "2",
                "-verify_return_error",
                "-CAfile",
                clients.to_str().unwrap(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "s_server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let kubeconfig = dir.path().join("admin.conf");
    std::fs::write(&kubeconfig, admin(&format!("https://127.0.0.1:{port}"))).unwrap();
    let out = Command::new("kubectl")
        .args(["get", "--raw", "/", "--request-timeout=10s", "--kubeconfig"])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut log = String::new();
    if !out.status.success() {
        server.0.kill().unwrap();
        server
            .0
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut log)
            .unwrap();
    }
    assert!(
        out.status.success(),
        "{}\nserver: {log}",
        String::from_utf8_lossy(&out.stderr)
    );
    // s_server -www answers with a page naming the client's certificate.
    assert!(stdout.contains("kubernetes-admin"), "{stdout}");
}

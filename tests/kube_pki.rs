//! The Kubernetes PKI of a lab script, rendered by labrun and checked with
//! openssl and kubectl against the design's table (kubeadm's PKI under the
//! lab's root CA); its reuse across loads and renewal; `labrun pki show`.

mod common;

use common::openssl::{KUBE_LAB, kubectl_view, public_key, render_kube, rsa_bits, verify};
use common::x509::{extensions, subject};
use common::{Labrun, text};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const NODES: [(&str, &str); 3] = [
    ("control-1", "127.0.0.11"),
    ("control-2", "127.0.0.12"),
    ("control-3", "127.0.0.13"),
];
const SERVER: &str = "TLS Web Server Authentication";
const CLIENT: &str = "TLS Web Client Authentication";
const BOTH: &str = "TLS Web Server Authentication, TLS Web Client Authentication";
const PKI: &str = "etc/kubernetes/pki";

/// Where a certificate chains to: the CA file that signed it, under the
/// node's PKI folder; the root signs the intermediates.
#[derive(Clone, Copy, PartialEq)]
enum Issuer {
    SelfSigned,
    Root,
    Kubernetes,
    Etcd,
    FrontProxy,
}

/// One certificate file of a node, as the design's table says it must be.
struct Row {
    file: String,
    issuer: Issuer,
    subject: String,
    /// The extended key usage, or the path length of a CA.
    eku: &'static str,
    sans: String,
}

fn row(file: &str, issuer: Issuer, subject: &str, eku: &'static str, sans: String) -> Row {
    Row {
        file: format!("{PKI}/{file}"),
        issuer,
        subject: subject.into(),
        eku,
        sans,
    }
}

/// The design's table for `node` at `ip`: CAs first (their `eku` holds the
/// basic constraints), then the leaves.
fn table(node: &str, ip: &str) -> Vec<Row> {
    use Issuer::*;
    let none = String::new;
    let etcd_sans = format!(
        "DNS:{node}, DNS:localhost, IP Address:{ip}, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"
    );
    vec![
        row(
            "root-ca.crt",
            SelfSigned,
            "CN = kubelius-root-ca",
            "critical: CA:TRUE, pathlen:1",
            none(),
        ),
        row(
            "ca.crt",
            Root,
            "CN = kubernetes",
            "critical: CA:TRUE, pathlen:0",
            none(),
        ),
        row(
            "etcd/ca.crt",
            Root,
            "CN = etcd-ca",
            "critical: CA:TRUE, pathlen:0",
            none(),
        ),
        row(
            "front-proxy-ca.crt",
            SelfSigned,
            "CN = front-proxy-ca",
            "critical: CA:TRUE",
            none(),
        ),
        row(
            "apiserver.crt",
            Kubernetes,
            "CN = kube-apiserver",
            SERVER,
            format!(
                "DNS:{node}, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, \
                 DNS:kubernetes.default.svc.cluster.local, DNS:api.kubelius, \
                 IP Address:10.96.0.1, IP Address:{ip}, IP Address:127.0.0.10"
            ),
        ),
        row(
            "apiserver-kubelet-client.crt",
            Kubernetes,
            "O = kubeadm:cluster-admins, CN = kube-apiserver-kubelet-client",
            CLIENT,
            none(),
        ),
        row(
            "front-proxy-client.crt",
            FrontProxy,
            "CN = front-proxy-client",
            CLIENT,
            none(),
        ),
        row(
            "etcd/server.crt",
            Etcd,
            &format!("CN = {node}"),
            BOTH,
            etcd_sans.clone(),
        ),
        row(
            "etcd/peer.crt",
            Etcd,
            &format!("CN = {node}"),
            BOTH,
            etcd_sans,
        ),
        row(
            "apiserver-etcd-client.crt",
            Etcd,
            "CN = kube-apiserver-etcd-client",
            CLIENT,
            none(),
        ),
    ]
}

/// The kubeconfigs of a node: file, client subject, server URL.
fn kubeconfigs(node: &str, ip: &str, first: bool) -> Vec<(String, String, String)> {
    let endpoint = "https://api.kubelius:6443".to_string();
    let local = format!("https://{ip}:6443");
    let mut confs = vec![
        (
            "admin.conf",
            "O = kubeadm:cluster-admins, CN = kubernetes-admin".into(),
            endpoint.clone(),
        ),
        (
            "controller-manager.conf",
            "CN = system:kube-controller-manager".into(),
            local.clone(),
        ),
        ("scheduler.conf", "CN = system:kube-scheduler".into(), local),
        (
            "kubelet.conf",
            format!("O = system:nodes, CN = system:node:{node}"),
            endpoint.clone(),
        ),
    ];
    if first {
        confs.push((
            "super-admin.conf",
            "O = system:masters, CN = kubernetes-super-admin".into(),
            endpoint,
        ));
    }
    confs
        .into_iter()
        .map(|(file, subject, server)| (format!("etc/kubernetes/{file}"), subject, server))
        .collect()
}

/// Every file under `dir` with its mode, by path relative to `dir`.
fn files(dir: &Path) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, mode);
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[test]
fn render_writes_kubeadm_files_and_every_certificate_matches_the_design() {
    let labrun = Labrun::offline();
    let out = tempfile::tempdir().unwrap();
    render_kube(&labrun, out.path(), &[]);
    let written = files(out.path());
    let work = tempfile::tempdir().unwrap();

    for (n, (node, ip)) in NODES.into_iter().enumerate() {
        let root = out.path().join(node);
        let at = |file: &str| root.join(file);
        let ca_file = |issuer: Issuer| match issuer {
            Issuer::SelfSigned => None,
            Issuer::Root => Some(format!("{PKI}/root-ca.crt")),
            Issuer::Kubernetes => Some(format!("{PKI}/ca.crt")),
            Issuer::Etcd => Some(format!("{PKI}/etcd/ca.crt")),
            Issuer::FrontProxy => Some(format!("{PKI}/front-proxy-ca.crt")),
        };
        let mut expected: BTreeMap<String, u32> = BTreeMap::new();
        for row in table(node, ip) {
            let cert = at(&row.file);
            let name = format!("{node}/{}", row.file);
            let is_ca = row.eku.starts_with("critical: CA:TRUE");
            // The chain: a CA against itself or the root; a leaf against
            // the root through its intermediate (front-proxy has none).
            match (row.issuer, ca_file(row.issuer)) {
                (_, None) => verify(&cert, None, None, &cert),
                (Issuer::Root | Issuer::FrontProxy, Some(anchor)) => {
                    verify(&at(&anchor), None, None, &cert)
                }
                (_, Some(intermediate)) => verify(
                    &at(&format!("{PKI}/root-ca.crt")),
                    Some(&at(&intermediate)),
                    Some(if row.eku == SERVER {
                        "sslserver"
                    } else {
                        "sslclient"
                    }),
                    &cert,
                ),
            }
            assert_eq!(subject(&cert), row.subject, "{name}");
            let ext = extensions(&cert);
            let usages = if is_ca {
                "critical: Digital Signature, Key Encipherment, Certificate Sign"
            } else {
                "critical: Digital Signature, Key Encipherment"
            };
            assert_eq!(ext["X509v3 Key Usage"], usages, "{name}");
            if is_ca {
                assert_eq!(ext["X509v3 Basic Constraints"], row.eku, "{name}");
                assert!(!ext.contains_key("X509v3 Extended Key Usage"), "{name}");
            } else {
                assert_eq!(
                    ext["X509v3 Basic Constraints"], "critical: CA:FALSE",
                    "{name}"
                );
                assert_eq!(ext["X509v3 Extended Key Usage"], row.eku, "{name}");
            }
            let sans = ext
                .get("X509v3 Subject Alternative Name")
                .cloned()
                .unwrap_or_default();
            assert_eq!(sans, row.sans, "{name}");
            assert_eq!(rsa_bits(&cert), if is_ca { 4096 } else { 2048 }, "{name}");

            expected.insert(format!("{node}/{}", row.file), 0o644);
            if row.file != format!("{PKI}/root-ca.crt") {
                let key = row.file.replace(".crt", ".key");
                assert_eq!(public_key(&at(&key)), public_key(&cert), "{name}: key");
                expected.insert(format!("{node}/{key}"), 0o600);
            }
        }

        // The service-account key pair.
        let sa_pub = std::fs::read_to_string(at(&format!("{PKI}/sa.pub"))).unwrap();
        assert_eq!(public_key(&at(&format!("{PKI}/sa.key"))), sa_pub);
        assert!(openssl_text(&at(&format!("{PKI}/sa.key"))).starts_with("Private-Key: (2048 bit"));
        expected.insert(format!("{node}/{PKI}/sa.key"), 0o600);
        expected.insert(format!("{node}/{PKI}/sa.pub"), 0o644);

        // Kubeconfigs: read by kubectl, the client certificate verified
        // against the kubernetes CA, the CA data that CA.
        let ca_pem = std::fs::read_to_string(at(&format!("{PKI}/ca.crt"))).unwrap();
        for (file, client, server) in kubeconfigs(node, ip, n == 0) {
            let name = format!("{node}/{file}");
            let view = kubectl_view(&at(&file));
            assert_eq!(
                view["clusters"][0]["cluster"]["server"],
                server.as_str(),
                "{name}"
            );
            let ca_data = view["clusters"][0]["cluster"]["certificate-authority-data"].as_str();
            assert_eq!(base64_decode(ca_data.unwrap()), ca_pem.as_bytes(), "{name}");
            let user = &view["users"][0]["user"];
            let cert = work
                .path()
                .join(format!("{node}-{}.crt", file.replace('/', "_")));
            let key = cert.with_extension("key");
            std::fs::write(
                &cert,
                base64_decode(user["client-certificate-data"].as_str().unwrap()),
            )
            .unwrap();
            std::fs::write(
                &key,
                base64_decode(user["client-key-data"].as_str().unwrap()),
            )
            .unwrap();
            verify(
                &at(&format!("{PKI}/root-ca.crt")),
                Some(&at(&format!("{PKI}/ca.crt"))),
                Some("sslclient"),
                &cert,
            );
            assert_eq!(subject(&cert), client, "{name}");
            let ext = extensions(&cert);
            assert_eq!(ext["X509v3 Extended Key Usage"], CLIENT, "{name}");
            assert_eq!(
                ext["X509v3 Key Usage"],
                "critical: Digital Signature, Key Encipherment"
            );
            assert_eq!(public_key(&key), public_key(&cert), "{name}");
            expected.insert(name, 0o600);
        }
        expected.insert(format!("{node}/etc/kubernetes/manifests/etcd.yaml"), 0o600);

        let found: BTreeMap<String, u32> = (written.iter())
            .filter(|(path, _)| path.starts_with(&format!("{node}/")))
            .map(|(p, m)| (p.clone(), *m))
            .collect();
        assert_eq!(found, expected, "{node}: every file, with its mode");
    }

    // What all nodes share is the same; the admin kubeconfigs are also given
    // to the user.
    for shared in [
        "ca.key",
        "etcd/ca.key",
        "front-proxy-ca.key",
        "sa.key",
        "apiserver-etcd-client.crt",
    ] {
        let read =
            |node: &str| std::fs::read(out.path().join(node).join(PKI).join(shared)).unwrap();
        assert_eq!(read("control-1"), read("control-3"), "{shared}");
    }
    // The user's copies hold the same credentials under the lab's names, so
    // they merge with other labs' kubeconfigs.
    for (file, node, context, user) in [
        ("admin.conf", "control-2", "kube-pki", "admin@kube-pki"),
        (
            "super-admin.conf",
            "control-1",
            "super-admin@kube-pki",
            "super-admin@kube-pki",
        ),
    ] {
        let mine = kubectl_view(&out.path().join(file));
        let theirs = kubectl_view(&out.path().join(node).join("etc/kubernetes").join(file));
        assert_eq!(
            mine["users"][0]["user"], theirs["users"][0]["user"],
            "{file}"
        );
        assert_eq!(
            mine["clusters"][0]["cluster"], theirs["clusters"][0]["cluster"],
            "{file}"
        );
        assert_eq!(mine["clusters"][0]["name"], "kube-pki");
        assert_eq!(mine["current-context"], context);
        assert_eq!(mine["contexts"][0]["context"]["cluster"], "kube-pki");
        assert_eq!(mine["users"][0]["name"], user);
        assert_eq!(mine["contexts"][0]["context"]["user"], user);
    }
    assert_eq!(written["admin.conf"], 0o600);
    assert_eq!(written["super-admin.conf"], 0o600);
    assert_eq!(written.len(), 3 * 26 + 1 + 2, "{written:#?}");
}

fn openssl_text(key: &Path) -> String {
    common::x509::openssl(&["pkey", "-in", key.to_str().unwrap(), "-noout", "-text"])
}

/// The lab's stored secrets (`secrets.json`), checking it is private.
fn stored_secrets(labrun: &Labrun) -> serde_json::Map<String, serde_json::Value> {
    let path = labrun.lab_dir("kube-pki").join("secrets.json");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", path.display());
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn secrets_bytes(labrun: &Labrun) -> Vec<u8> {
    std::fs::read(labrun.lab_dir("kube-pki").join("secrets.json")).unwrap()
}

/// Runs labrun, which must succeed and print no key material; returns
/// its stderr.
fn run_quietly(labrun: &Labrun, args: &[&str]) -> String {
    let out = labrun.run(args);
    assert!(out.status.success(), "{args:?}: {}", text(&out));
    let all = text(&out);
    assert!(
        !all.contains("PRIVATE KEY") && !all.contains("BEGIN"),
        "{args:?} shows PEM: {all}"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Certificate and public key fingerprints by name, from `pki show --json`.
fn fingerprints(labrun: &Labrun) -> BTreeMap<String, String> {
    let out = labrun.run(&["pki", "show", "kube-pki", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let of = |field: &str| {
        v[field].as_object().unwrap().iter().map(|(name, entry)| {
            (
                name.clone(),
                entry["fingerprint"].as_str().unwrap().to_string(),
            )
        })
    };
    of("certs").chain(of("keys")).collect()
}

#[test]
fn keys_are_made_once_reused_by_plan_up_and_render_and_renewed_on_request() {
    const MADE: &str = "pki: generated 24 keys, issued 23 certificates";
    let labrun = Labrun::offline();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();

    assert!(run_quietly(&labrun, &["plan", KUBE_LAB]).contains(MADE));
    let first = fingerprints(&labrun);
    assert_eq!(first.len(), 24);
    let stored = stored_secrets(&labrun);
    // The lab declares no AWS resource, so `up` has nothing to do but load it.
    for args in [
        &["plan", KUBE_LAB][..],
        &["up", KUBE_LAB, "--yes"],
        &["render", KUBE_LAB, dir],
    ] {
        let err = run_quietly(&labrun, args);
        assert!(!err.contains("pki:"), "{args:?} made keys: {err}");
        assert_eq!(fingerprints(&labrun), first, "{args:?}");
        assert_eq!(stored_secrets(&labrun), stored, "{args:?}");
    }

    // The lab's SSH key, another module's secret, outlives PKI renewals.
    let ssh = stored["ssh.user"].clone();
    assert!(ssh.is_string(), "{:?}", stored.keys());

    // A look with renewal shows what would be made and saves nothing.
    let before_bytes = secrets_bytes(&labrun);
    for args in [
        &["plan", KUBE_LAB, "--renew-pki"][..],
        &["render", KUBE_LAB, dir, "--renew-pki"],
    ] {
        assert!(run_quietly(&labrun, args).contains(MADE), "{args:?}");
        assert_eq!(
            secrets_bytes(&labrun),
            before_bytes,
            "{args:?} changed secrets.json"
        );
        assert_eq!(fingerprints(&labrun), first, "{args:?}");
    }
    // `up` asks first: off a terminal it needs --yes, and without it keeps everything.
    let out = labrun.run(&["up", KUBE_LAB, "--renew-pki"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(secrets_bytes(&labrun), before_bytes);
    // `up` renews, keeps the renewal, and keeps the old keys in a dated backup.
    let args = ["up", KUBE_LAB, "--yes", "--renew-pki"];
    assert!(run_quietly(&labrun, &args).contains(MADE));
    let backups: Vec<_> = std::fs::read_dir(labrun.lab_dir("kube-pki"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("secrets.json.")
        })
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(std::fs::read(&backups[0]).unwrap(), before_bytes);
    let before = fingerprints(&labrun);
    assert_eq!(before.len(), 24);
    for (name, fingerprint) in &before {
        assert_ne!(first[name], *fingerprint, "{name} was not renewed");
    }
    let secrets = stored_secrets(&labrun);
    assert_eq!(secrets["ssh.user"], ssh, "other secrets are kept");
    let old_keys = stored["pki"]["keys"].as_object().unwrap();
    for (name, pem) in secrets["pki"]["keys"].as_object().unwrap() {
        assert_ne!(old_keys[name], *pem, "key {name} was not renewed");
    }
    let err = run_quietly(&labrun, &["plan", KUBE_LAB]);
    assert!(!err.contains("pki:"), "{err}");
    assert_eq!(fingerprints(&labrun), before);
}

#[test]
fn pki_show_lists_certificates_like_kubeadm_and_details_one() {
    let labrun = Labrun::offline();
    let out = tempfile::tempdir().unwrap();
    render_kube(&labrun, out.path(), &[]);
    let show = |args: &[&str]| {
        let out = labrun.run(args);
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    insta::with_settings!({ filters => vec![
        (r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "[date]"),
        (r"sha256:[0-9a-f]{64}", "[sha256]"),
        (r"serial:      [0-9a-f]+", "serial:      [serial]"),
    ]}, {
        insta::assert_snapshot!("pki_show", show(&["pki", "show", "kube-pki"]));
        insta::assert_snapshot!(
            "pki_show_etcd_peer",
            show(&["pki", "show", KUBE_LAB, "control-2/etcd/peer"])
        );
        insta::assert_snapshot!("pki_show_sa", show(&["pki", "show", "kube-pki", "sa"]));
    });

    let json: serde_json::Value =
        serde_json::from_str(&show(&["pki", "show", "kube-pki", "ca", "--json"])).unwrap();
    assert_eq!(json["subject"], "CN=kubernetes");
    assert_eq!(json["issuer"], "CN=kubelius-root-ca");
    assert_eq!(json["is_ca"], true);
    assert_eq!(json["path_len"], 0);
    assert_eq!(json["days_left"], 3649);
    // Times are RFC 3339, as in every --json of labrun.
    for field in ["not_before", "not_after"] {
        let t = json[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field}: {json}"));
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|e| panic!("{field} = {t}: {e}"));
    }
    let all: serde_json::Value =
        serde_json::from_str(&show(&["pki", "show", "kube-pki", "--json"])).unwrap();
    assert_eq!(all["certs"].as_object().unwrap().len(), 23);
    assert_eq!(all["certs"]["control-3/apiserver"]["ips"][1], "127.0.0.13");
    assert_eq!(all["keys"]["sa"]["key"], "rsa-2048");

    for (args, says) in [
        (
            &["pki", "show", "kube-pki", "nope"][..],
            "no certificate or key named \"nope\"",
        ),
        (
            &["pki", "show", "no-such-lab"],
            "lab no-such-lab has no PKI",
        ),
    ] {
        let out = labrun.run(args);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{}",
            text(&out)
        );
    }
}

//! The Kubernetes labs as `labrun render` writes them (offline), checked
//! with the real tools: kubernetes-validate (the pinned version's Pod
//! schema, offline), openssl (each certificate a flag names has the usage
//! the flag needs and chains to the CA its peer trusts), kubectl (the
//! kubeconfigs load), labrun's Ignition validator, and kubeadm's v1beta4
//! fields written down from its Go types (no kubeadm binary runs here).

mod common;

use common::openssl::{kubectl_view, public_key};
use common::x509::{extensions, openssl, subject};
use common::{Labrun, text};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const NODES: [(&str, &str); 3] = [
    ("control-01", "10.10.16.11"),
    ("control-02", "10.10.16.12"),
    ("control-03", "10.10.16.13"),
];
const MANIFESTS: [&str; 4] = [
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
];
const VERSION: &str = "1.35.1";

/// A lab rendered into a temporary folder, with the labrun (and so the
/// lab's stored PKI) that rendered it.
struct Rendered {
    labrun: Labrun,
    dir: tempfile::TempDir,
}

impl Rendered {
    fn new(labrun: Labrun, lab: &str, args: &[&str]) -> Rendered {
        let dir = tempfile::tempdir().unwrap();
        render(&labrun, lab, dir.path(), args);
        Rendered { labrun, dir }
    }

    fn node(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn render(labrun: &Labrun, lab: &str, dir: &Path, args: &[&str]) {
    let mut all = vec!["render", lab, dir.to_str().unwrap()];
    all.extend(args);
    let out = labrun.run(&all);
    assert!(out.status.success(), "{}", text(&out));
}

/// labs/kube.lua, rendered once for the tests of this file.
fn hard_way() -> &'static Rendered {
    static LAB: OnceLock<Rendered> = OnceLock::new();
    LAB.get_or_init(|| Rendered::new(Labrun::offline(), "labs/kube.lua", &[]))
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A path on a node, as rendered under `root` (the node's `/`).
fn on(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

/// The command's flags of a static pod manifest: (binary, flag → value).
fn flags(pod: &Value) -> (String, BTreeMap<String, String>) {
    let command = pod["spec"]["containers"][0]["command"].as_array().unwrap();
    let binary = command[0].as_str().unwrap().to_string();
    let flags = (command[1..].iter())
        .map(|a| {
            let (flag, value) = a.as_str().unwrap().split_once('=').expect("--flag=value");
            (flag.trim_start_matches("--").to_string(), value.to_string())
        })
        .collect();
    (binary, flags)
}

fn kubernetes_validate() -> PathBuf {
    if let Some(p) = std::env::var_os("LABRUN_KUBERNETES_VALIDATE") {
        return p.into();
    }
    let home = PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()));
    let venv = home.join(".cache/labrun/kubernetes-validate-venv/bin/kubernetes-validate");
    if venv.exists() {
        venv
    } else {
        "kubernetes-validate".into()
    }
}

/// kubernetes-validate (strict: unknown fields fail) of `files` against the
/// pinned version: (success, output).
fn validate_pods(files: &[PathBuf]) -> (bool, String) {
    let out = Command::new(kubernetes_validate())
        .args(["--strict", "--kubernetes-version", VERSION])
        .args(files)
        .output()
        .expect("kubernetes-validate runs (.ci/setup installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn every_static_pod_validates_as_a_v1_pod_of_the_pinned_version() {
    let lab = hard_way();
    let files: Vec<PathBuf> = (NODES.iter())
        .flat_map(|(node, _)| {
            MANIFESTS.map(|m| {
                lab.node(node)
                    .join(format!("etc/kubernetes/manifests/{m}.yaml"))
            })
        })
        .collect();
    let (ok, out) = validate_pods(&files);
    assert!(ok, "{out}");
    assert_eq!(
        out.lines()
            .filter(|l| l.contains("passed for resource pod/"))
            .count(),
        12,
        "{out}"
    );
    assert!(out.contains("against version 1.35"), "{out}");

    // Images are the pinned ones.
    for file in &files {
        let image = yaml(file)["spec"]["containers"][0]["image"]
            .as_str()
            .unwrap()
            .to_string();
        let ok =
            image.ends_with(&format!(":v{VERSION}")) || image == "registry.k8s.io/etcd:3.6.6-0";
        assert!(ok, "{}: {image}", file.display());
    }

    // The same validation refuses a manifest with a misspelt field.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    let text = std::fs::read_to_string(&files[1]).unwrap();
    std::fs::write(&bad, text.replacen("  - command:", "  - comand:", 1)).unwrap();
    let (ok, out) = validate_pods(&[bad]);
    assert!(!ok && out.contains("comand"), "{out}");
}

/// The hostPath type of the pod's volume holding `path`.
fn host_path_type(pod: &Value, path: &str) -> String {
    (pod["spec"]["volumes"].as_array().unwrap().iter())
        .find(|v| path.starts_with(v["hostPath"]["path"].as_str().unwrap()))
        .map(|v| v["hostPath"]["type"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

/// What a flag naming a file needs of it.
#[derive(Debug, Clone, Copy)]
enum Need {
    /// A CA certificate.
    Ca,
    /// A serving certificate (its key in the named flag).
    Serving(&'static str),
    /// A client certificate (its key in the named flag).
    Client(&'static str),
    /// A private key (checked with its certificate or public key).
    Key,
    /// The public key of the private key in the named flag.
    PublicOf(&'static str),
    /// A kubeconfig.
    Kubeconfig,
    /// A folder.
    Folder,
}

/// Every flag of the control plane that names a file or folder, and what it needs.
fn needs(binary: &str, flag: &str) -> Option<Need> {
    use Need::*;
    Some(match (binary, flag) {
        (_, "client-ca-file" | "requestheader-client-ca-file" | "root-ca-file") => Ca,
        ("kube-apiserver", "etcd-cafile" | "kubelet-certificate-authority") => Ca,
        ("kube-apiserver", "tls-cert-file") => Serving("tls-private-key-file"),
        ("kube-apiserver", "etcd-certfile") => Client("etcd-keyfile"),
        ("kube-apiserver", "kubelet-client-certificate") => Client("kubelet-client-key"),
        ("kube-apiserver", "proxy-client-cert-file") => Client("proxy-client-key-file"),
        ("kube-apiserver", "service-account-key-file") => {
            PublicOf("service-account-signing-key-file")
        }
        (
            "kube-apiserver",
            "tls-private-key-file"
            | "etcd-keyfile"
            | "kubelet-client-key"
            | "proxy-client-key-file"
            | "service-account-signing-key-file",
        ) => Key,
        ("kube-controller-manager", "cluster-signing-cert-file") => Ca,
        (
            "kube-controller-manager",
            "cluster-signing-key-file" | "service-account-private-key-file",
        ) => Key,
        (_, "kubeconfig" | "authentication-kubeconfig" | "authorization-kubeconfig") => Kubeconfig,
        ("kube-controller-manager", "flex-volume-plugin-dir") => Folder,
        _ => return None,
    })
}

/// Whether `cert` verifies for `purpose` (sslserver, sslclient) against `ca` as the
/// trust anchor, as a Go TLS peer configured with that CA file treats it (the
/// lab's kubernetes and etcd CAs are intermediates under its root: -partial_chain).
fn verify(ca: &Path, purpose: &str, cert: &Path) {
    let out = openssl(&[
        "verify",
        "-x509_strict",
        "-partial_chain",
        "-CAfile",
        ca.to_str().unwrap(),
        "-purpose",
        purpose,
        cert.to_str().unwrap(),
    ]);
    assert!(out.trim().ends_with(": OK"), "{}: {out}", cert.display());
}

/// Whether a certificate names `value`: `check` is -checkhost or -checkip.
fn names(cert: &Path, check: &str, value: &str) -> bool {
    let out = openssl(&[
        "x509",
        "-in",
        cert.to_str().unwrap(),
        "-noout",
        check,
        value,
    ]);
    out.contains("does match")
}

fn is_ca(cert: &Path) -> bool {
    let ext = extensions(cert);
    ext.get("X509v3 Basic Constraints")
        .is_some_and(|v| v.contains("CA:TRUE"))
        && ext
            .get("X509v3 Key Usage")
            .is_some_and(|v| v.contains("Certificate Sign"))
}

/// The client certificate embedded in a kubeconfig, written to `dir`; and
/// its server URL and CA (written too).
fn kubeconfig_client(conf: &Path, dir: &Path) -> (PathBuf, String, PathBuf) {
    use base64::Engine;
    let view = kubectl_view(conf);
    let decode = |v: &Value| {
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap()
    };
    let name = conf.file_name().unwrap().to_str().unwrap();
    let cert = dir.join(format!("{name}.client.crt"));
    let ca = dir.join(format!("{name}.ca.crt"));
    std::fs::write(
        &cert,
        decode(&view["users"][0]["user"]["client-certificate-data"]),
    )
    .unwrap();
    std::fs::write(
        &ca,
        decode(&view["clusters"][0]["cluster"]["certificate-authority-data"]),
    )
    .unwrap();
    let server = view["clusters"][0]["cluster"]["server"]
        .as_str()
        .unwrap()
        .to_string();
    (cert, server, ca)
}

#[test]
fn every_file_a_control_plane_flag_names_is_on_the_node_with_the_usage_the_flag_needs() {
    let lab = hard_way();
    let work = tempfile::tempdir().unwrap();
    for (node, ip) in NODES {
        let root = lab.node(node);
        let pki = |name: &str| on(&root, &format!("/etc/kubernetes/pki/{name}"));
        let kubelet = yaml(&on(&root, "/var/lib/kubelet/config.yaml"));
        let etcd = flags(&yaml(&on(&root, "/etc/kubernetes/manifests/etcd.yaml"))).1;
        let mut checked = 0;
        let mut all: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
        for name in &MANIFESTS[1..] {
            let pod = yaml(&on(
                &root,
                &format!("/etc/kubernetes/manifests/{name}.yaml"),
            ));
            let (binary, fl) = flags(&pod);
            assert_eq!(binary, *name);
            let mounts: Vec<String> = (pod["spec"]["containers"][0]["volumeMounts"].as_array())
                .map(|m| {
                    m.iter()
                        .map(|m| m["mountPath"].as_str().unwrap().to_string())
                        .collect()
                })
                .unwrap_or_default();
            for (flag, value) in &fl {
                for path in value.split(',').filter(|p| p.starts_with('/')) {
                    let need = needs(&binary, flag).unwrap_or_else(|| {
                        panic!("{node} {binary} --{flag}={path}: no check for this flag")
                    });
                    let file = on(&root, path);
                    let made_by_kubelet = matches!(need, Need::Folder)
                        && host_path_type(&pod, path) == "DirectoryOrCreate";
                    assert!(
                        file.exists() || made_by_kubelet,
                        "{node} {binary} --{flag}: {path} is not on the node"
                    );
                    assert!(
                        mounts.iter().any(|m| path.starts_with(m.as_str())),
                        "{node} {binary} --{flag}: {path} is not mounted into the pod ({mounts:?})"
                    );
                    let at = |f: &str| on(&root, &fl[f]);
                    match need {
                        Need::Ca => assert!(is_ca(&file), "{node} --{flag}: {path} is no CA"),
                        Need::Serving(key) | Need::Client(key) => {
                            assert_eq!(
                                public_key(&file),
                                public_key(&at(key)),
                                "{node} --{flag} and --{key}"
                            );
                        }
                        Need::Key => {
                            openssl(&["pkey", "-in", file.to_str().unwrap(), "-noout"]);
                        }
                        Need::PublicOf(key) => {
                            let public =
                                openssl(&["pkey", "-pubin", "-in", file.to_str().unwrap()]);
                            assert_eq!(public, public_key(&at(key)), "{node} --{flag} and --{key}");
                        }
                        Need::Kubeconfig => {
                            let (cert, server, ca) = kubeconfig_client(&file, work.path());
                            let client_ca = on(&root, &all["kube-apiserver"]["client-ca-file"]);
                            verify(&client_ca, "sslclient", &cert);
                            assert_eq!(
                                std::fs::read(&ca).unwrap(),
                                std::fs::read(pki("ca.crt")).unwrap()
                            );
                            assert_eq!(server, format!("https://{ip}:6443"), "{node} {path}");
                            let who = subject(&cert);
                            let expected = format!("CN = system:{binary}");
                            assert_eq!(who, expected, "{node} {path}");
                        }
                        Need::Folder => assert!(
                            path.starts_with("/var/"),
                            "/usr is read-only on Fedora CoreOS: {path}"
                        ),
                    }
                    checked += 1;
                }
            }
            all.insert(name, fl);
        }
        assert!(checked >= 27, "{node}: only {checked} paths checked");

        // Who accepts each certificate: the serving certificate chains to the CA
        // clients trust and names the node's IP and the API's name and address.
        let api = &all["kube-apiserver"];
        let cm = &all["kube-controller-manager"];
        let f = |flags: &BTreeMap<String, String>, flag: &str| on(&root, &flags[flag]);
        let serving = f(api, "tls-cert-file");
        verify(&pki("ca.crt"), "sslserver", &serving);
        verify(&f(cm, "root-ca-file"), "sslserver", &serving);
        for host in ["api.kubelius", "kubernetes.default.svc.cluster.local", node] {
            assert!(names(&serving, "-checkhost", host), "{node}: {host}");
        }
        for addr in [ip, "10.10.31.10", "10.96.0.1"] {
            assert!(names(&serving, "-checkip", addr), "{node}: {addr}");
        }
        // etcd accepts the API server's client certificate; the API server etcd's.
        verify(
            &on(&root, &etcd["trusted-ca-file"]),
            "sslclient",
            &f(api, "etcd-certfile"),
        );
        verify(
            &f(api, "etcd-cafile"),
            "sslserver",
            &on(&root, &etcd["cert-file"]),
        );
        // Kubelets accept the API server's client certificate; it theirs.
        let kubelet_ca = on(
            &root,
            kubelet["authentication"]["x509"]["clientCAFile"]
                .as_str()
                .unwrap(),
        );
        verify(
            &kubelet_ca,
            "sslclient",
            &f(api, "kubelet-client-certificate"),
        );
        let kubelet_serving = on(&root, kubelet["tlsCertFile"].as_str().unwrap());
        verify(
            &f(api, "kubelet-certificate-authority"),
            "sslserver",
            &kubelet_serving,
        );
        assert_eq!(
            public_key(&kubelet_serving),
            public_key(&on(&root, kubelet["tlsPrivateKeyFile"].as_str().unwrap()))
        );
        // The front proxy's client certificate, and the name the API server allows.
        let proxy = f(api, "proxy-client-cert-file");
        verify(&f(api, "requestheader-client-ca-file"), "sslclient", &proxy);
        assert_eq!(
            subject(&proxy),
            format!("CN = {}", api["requestheader-allowed-names"])
        );
        // The controller-manager signs with the CA the API server trusts clients by.
        assert_eq!(
            std::fs::read(f(cm, "cluster-signing-cert-file")).unwrap(),
            std::fs::read(f(api, "client-ca-file")).unwrap()
        );
        assert_eq!(
            public_key(&f(cm, "cluster-signing-cert-file")),
            public_key(&f(cm, "cluster-signing-key-file"))
        );
        // Service accounts: the controller-manager's signing key is the one the API server checks.
        let sa_public = openssl(&[
            "pkey",
            "-pubin",
            "-in",
            f(api, "service-account-key-file").to_str().unwrap(),
        ]);
        assert_eq!(
            sa_public,
            public_key(&f(cm, "service-account-private-key-file"))
        );
        // etcd: the three members, over TLS.
        assert_eq!(
            api["etcd-servers"],
            "https://10.10.16.11:2379,https://10.10.16.12:2379,https://10.10.16.13:2379"
        );
        assert_eq!(api["advertise-address"], ip);
        assert_eq!(api["authorization-mode"], "Node,RBAC");
        assert_eq!(cm["leader-elect"], "true");
        assert_eq!(all["kube-scheduler"]["leader-elect"], "true");
    }
}

#[test]
fn the_kubelet_runs_the_static_pods_with_the_labs_certificates() {
    let lab = hard_way();
    let work = tempfile::tempdir().unwrap();
    for (node, ip) in NODES {
        let root = lab.node(node);
        let config = yaml(&on(&root, "/var/lib/kubelet/config.yaml"));
        assert_eq!(config["apiVersion"], "kubelet.config.k8s.io/v1beta1");
        assert_eq!(config["kind"], "KubeletConfiguration");
        assert_eq!(config["cgroupDriver"], "systemd");
        assert_eq!(config["rotateCertificates"], true);
        assert_eq!(config["authentication"]["anonymous"]["enabled"], false);
        assert_eq!(config["authentication"]["webhook"]["enabled"], true);
        assert_eq!(config["authorization"]["mode"], "Webhook");
        let plugins = config["volumePluginDir"].as_str().unwrap();
        assert!(
            plugins.starts_with("/var/"),
            "/usr is read-only on Fedora CoreOS: {plugins}"
        );
        let manifests = on(&root, config["staticPodPath"].as_str().unwrap());
        let mut found: Vec<String> = std::fs::read_dir(&manifests)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        found.sort();
        assert_eq!(found, MANIFESTS.map(|m| format!("{m}.yaml")));
        // Its kubeconfig (the drop-in's --kubeconfig): system:node:NAME in system:nodes,
        // accepted by the API server, talking to the API endpoint.
        let (cert, server, _) =
            kubeconfig_client(&on(&root, "/etc/kubernetes/kubelet.conf"), work.path());
        assert_eq!(
            subject(&cert),
            format!("O = system:nodes, CN = system:node:{node}")
        );
        verify(&on(&root, "/etc/kubernetes/pki/ca.crt"), "sslclient", &cert);
        assert_eq!(server, "https://api.kubelius:6443");
        // Its serving certificate names the node as the API server reaches it.
        let serving = on(&root, config["tlsCertFile"].as_str().unwrap());
        assert!(names(&serving, "-checkip", ip), "{node}");
    }
}

/// The Ignition files of a node as (path → file entry).
fn ignition_files(ign: &Value) -> BTreeMap<String, Value> {
    (ign["storage"]["files"].as_array().unwrap().iter())
        .map(|f| (f["path"].as_str().unwrap().to_string(), f.clone()))
        .collect()
}

fn unit<'a>(ign: &'a Value, name: &str) -> &'a Value {
    (ign["systemd"]["units"].as_array().unwrap().iter())
        .find(|u| u["name"] == name)
        .unwrap_or_else(|| panic!("no unit {name}"))
}

/// The text of an inline (data URL) Ignition resource, gunzipped if compressed.
fn data(resource: &Value) -> String {
    use base64::Engine;
    use std::io::Read;
    let s = resource["source"].as_str().unwrap();
    let (meta, body) = s.strip_prefix("data:").unwrap().split_once(',').unwrap();
    let bytes = if meta.ends_with(";base64") {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    } else {
        percent_decode(body)
    };
    if resource["compression"] == "gzip" {
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        return text;
    }
    String::from_utf8(bytes).unwrap()
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// Every rendered config.ign under `dir` validates with labrun's validator.
fn validated(dir: &Path, node: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(node).join("config.ign")).unwrap();
    labrun::ignition::validate(&text).unwrap_or_else(|e| panic!("{node}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn lock(labrun: &Labrun) -> Value {
    let dir = tempfile::tempdir().unwrap();
    render(
        labrun,
        "tests/fixtures/labs/kube/kubeadm.lua",
        dir.path(),
        &[],
    );
    serde_json::from_str(&std::fs::read_to_string(dir.path().join("lock.json")).unwrap()).unwrap()
}

#[test]
fn every_node_ignition_validates_and_installs_the_locked_software() {
    let labrun = Labrun::offline();
    let lock = lock(&labrun);
    assert_eq!(lock["kubernetes"], VERSION);
    for arch in ["amd64", "arm64"] {
        for bin in ["crictl", "kubeadm", "kubectl", "kubelet"] {
            let entry = &lock["binaries"][arch][bin];
            let sha = entry["sha256"].as_str().unwrap();
            assert!(
                sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit()),
                "{arch} {bin}"
            );
            let url = entry["url"].as_str().unwrap();
            assert!(
                url.starts_with("https://") && url.contains(arch) && url.contains(bin),
                "{url}"
            );
        }
    }
    for (lab, vars) in [
        ("labs/kube.lua", vec![]),
        ("labs/kube-kubeadm.lua", vec![]),
        ("labs/kube-kubeadm.lua", vec!["--var", "install=rpm-ostree"]),
    ] {
        let dir = tempfile::tempdir().unwrap();
        render(&labrun, lab, dir.path(), &vars);
        let gateway = validated(dir.path(), "gateway");
        let cfg = data(&ignition_files(&gateway)["/etc/haproxy/haproxy.cfg"]["contents"]);
        for (node, ip) in NODES {
            assert!(cfg.contains(&format!("server {node} {ip}:6443")), "{cfg}");
        }
        assert!(cfg.contains("option httpchk GET /readyz"), "{cfg}");
        assert_eq!(unit(&gateway, "api-lb.service")["enabled"], true);

        let rpm = !vars.is_empty();
        for (node, _) in NODES {
            let ign = validated(dir.path(), node);
            let files = ignition_files(&ign);
            let hosts = data(&files["/etc/hosts"]["append"][0]);
            assert_eq!(hosts, "10.10.31.10 api.kubelius\n");
            let zincati =
                data(&files["/etc/zincati/config.d/90-labrun-no-updates.toml"]["contents"]);
            assert!(zincati.contains("[updates]\nenabled = false"), "{zincati}");
            let modules = data(&files["/etc/modules-load.d/kubernetes.conf"]["contents"]);
            assert!(modules.contains("br_netfilter"));
            let sysctl = data(&files["/etc/sysctl.d/90-labrun.conf"]["contents"]);
            assert!(
                sysctl.contains("net.ipv4.ip_forward = 1")
                    && sysctl.contains("net.bridge.bridge-nf-call-iptables = 1")
            );
            // Every file the lab declares for the node is in its Ignition.
            for entry in walk(&dir.path().join(node)) {
                let path = format!(
                    "/{}",
                    entry.strip_prefix(dir.path().join(node)).unwrap().display()
                );
                if path != "/config.ign" && path != "/config.bu" {
                    assert!(
                        files.contains_key(&path),
                        "{lab} {node}: {path} is not in its Ignition"
                    );
                }
            }
            if rpm {
                assert!(!files.contains_key("/usr/local/bin/kubelet"));
                let script = data(&files["/usr/local/libexec/labrun-kube-install"]["contents"]);
                assert!(
                    script.contains(&format!("kubelet-{VERSION} kubeadm-{VERSION}"))
                        && script.contains("cri-o"),
                    "{script}"
                );
                let repo = data(&files["/etc/yum.repos.d/kubernetes.repo"]["contents"]);
                assert!(repo.contains("/v1.35/rpm/"), "{repo}");
                assert_eq!(unit(&ign, "labrun-kube-install.service")["enabled"], true);
                continue;
            }
            for bin in ["kubelet", "kubeadm", "kubectl"] {
                let f = &files[&format!("/usr/local/bin/{bin}")];
                assert_eq!(f["mode"], 0o755);
                assert_eq!(
                    f["contents"]["source"],
                    lock["binaries"]["arm64"][bin]["url"]
                );
                let hash = format!(
                    "sha256-{}",
                    lock["binaries"]["arm64"][bin]["sha256"].as_str().unwrap()
                );
                assert_eq!(f["contents"]["verification"]["hash"], hash.as_str());
            }
            let crictl = &files["/var/lib/labrun/crictl.tar.gz"]["contents"];
            assert_eq!(crictl["source"], lock["binaries"]["arm64"]["crictl"]["url"]);
            let containerd = data(&files["/etc/containerd/config.toml"]["contents"]);
            for line in [
                "SystemdCgroup = true",
                "enable_selinux = true",
                "sandbox_image = \"registry.k8s.io/pause:3.10.1\"",
            ] {
                assert!(containerd.contains(line), "{containerd}");
            }
            assert_eq!(files["/etc/containerd/config.toml"]["overwrite"], true);
            assert_eq!(unit(&ign, "containerd.service")["enabled"], true);
            let kubelet = unit(&ign, "kubelet.service");
            assert_eq!(kubelet["enabled"], true);
            let dropin = kubelet["dropins"][0]["contents"].as_str().unwrap();
            assert!(
                dropin.contains("--config=/var/lib/kubelet/config.yaml")
                    && dropin.contains("--kubeconfig=/etc/kubernetes/kubelet.conf")
            );
        }
    }
}

/// Every file under `dir`, recursively.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// kubeadm v1beta4's fields, from its Go types (cmd/kubeadm/app/apis/kubeadm/v1beta4,
/// as of Kubernetes 1.35), as paths: `a.b` a field of a map, `a[].b` of a list's items.
const KUBEADM_FIELDS: &[&str] = &[
    // InitConfiguration
    "init:apiVersion",
    "init:kind",
    "init:bootstrapTokens",
    "init:bootstrapTokens[].token",
    "init:bootstrapTokens[].description",
    "init:bootstrapTokens[].ttl",
    "init:bootstrapTokens[].expires",
    "init:bootstrapTokens[].usages",
    "init:bootstrapTokens[].usages[]",
    "init:bootstrapTokens[].groups",
    "init:bootstrapTokens[].groups[]",
    "init:dryRun",
    "init:localAPIEndpoint",
    "init:localAPIEndpoint.advertiseAddress",
    "init:localAPIEndpoint.bindPort",
    "init:certificateKey",
    "init:skipPhases",
    "init:skipPhases[]",
    "init:patches",
    "init:patches.directory",
    "init:timeouts",
    "init:nodeRegistration",
    // ClusterConfiguration
    "cluster:apiVersion",
    "cluster:kind",
    "cluster:etcd",
    "cluster:etcd.local",
    "cluster:etcd.local.imageRepository",
    "cluster:etcd.local.imageTag",
    "cluster:etcd.local.dataDir",
    "cluster:etcd.local.extraArgs",
    "cluster:etcd.local.extraEnvs",
    "cluster:etcd.local.serverCertSANs",
    "cluster:etcd.local.peerCertSANs",
    "cluster:etcd.external",
    "cluster:networking",
    "cluster:networking.serviceSubnet",
    "cluster:networking.podSubnet",
    "cluster:networking.dnsDomain",
    "cluster:kubernetesVersion",
    "cluster:controlPlaneEndpoint",
    "cluster:apiServer",
    "cluster:apiServer.extraArgs",
    "cluster:apiServer.extraArgs[].name",
    "cluster:apiServer.extraArgs[].value",
    "cluster:apiServer.extraVolumes",
    "cluster:apiServer.extraEnvs",
    "cluster:apiServer.certSANs",
    "cluster:apiServer.certSANs[]",
    "cluster:controllerManager",
    "cluster:controllerManager.extraArgs",
    "cluster:controllerManager.extraArgs[].name",
    "cluster:controllerManager.extraArgs[].value",
    "cluster:controllerManager.extraVolumes",
    "cluster:controllerManager.extraEnvs",
    "cluster:scheduler",
    "cluster:scheduler.extraArgs",
    "cluster:scheduler.extraVolumes",
    "cluster:scheduler.extraEnvs",
    "cluster:dns",
    "cluster:dns.imageRepository",
    "cluster:dns.imageTag",
    "cluster:dns.disabled",
    "cluster:proxy",
    "cluster:proxy.disabled",
    "cluster:certificatesDir",
    "cluster:imageRepository",
    "cluster:featureGates",
    "cluster:clusterName",
    "cluster:encryptionAlgorithm",
    "cluster:certificateValidityPeriod",
    "cluster:caCertificateValidityPeriod",
    // JoinConfiguration
    "join:apiVersion",
    "join:kind",
    "join:dryRun",
    "join:nodeRegistration",
    "join:caCertPath",
    "join:discovery",
    "join:discovery.bootstrapToken",
    "join:discovery.bootstrapToken.token",
    "join:discovery.bootstrapToken.apiServerEndpoint",
    "join:discovery.bootstrapToken.caCertHashes",
    "join:discovery.bootstrapToken.caCertHashes[]",
    "join:discovery.bootstrapToken.unsafeSkipCAVerification",
    "join:discovery.file",
    "join:discovery.file.kubeConfigPath",
    "join:discovery.tlsBootstrapToken",
    "join:controlPlane",
    "join:controlPlane.localAPIEndpoint",
    "join:controlPlane.localAPIEndpoint.advertiseAddress",
    "join:controlPlane.localAPIEndpoint.bindPort",
    "join:controlPlane.certificateKey",
    "join:skipPhases",
    "join:skipPhases[]",
    "join:patches",
    "join:patches.directory",
    "join:timeouts",
    // NodeRegistrationOptions (in both)
    "node:name",
    "node:criSocket",
    "node:taints",
    "node:taints[].key",
    "node:taints[].value",
    "node:taints[].effect",
    "node:kubeletExtraArgs",
    "node:kubeletExtraArgs[].name",
    "node:kubeletExtraArgs[].value",
    "node:ignorePreflightErrors",
    "node:ignorePreflightErrors[]",
    "node:imagePullPolicy",
    "node:imagePullSerial",
    // KubeletConfiguration (kubelet.config.k8s.io/v1beta1), the fields the labs set
    "kubelet:apiVersion",
    "kubelet:kind",
    "kubelet:cgroupDriver",
    "kubelet:containerRuntimeEndpoint",
    "kubelet:volumePluginDir",
];

/// The paths of `value` as KUBEADM_FIELDS writes them, each with its value.
fn paths(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.ends_with(':') {
                    format!("{prefix}{k}")
                } else {
                    format!("{prefix}.{k}")
                };
                if path.ends_with(".nodeRegistration") || path.ends_with(":nodeRegistration") {
                    out.push((path, v.clone()));
                    paths("node:", v, out);
                } else {
                    out.push((path.clone(), v.clone()));
                    paths(&path, v, out);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                let path = format!("{prefix}[]");
                if !item.is_object() {
                    out.push((path.clone(), item.clone()));
                }
                paths(&path, item, out);
            }
        }
        _ => {}
    }
}

/// Checks one kubeadm document's fields against KUBEADM_FIELDS; returns its paths.
fn check_fields(kind: &str, doc: &Value) -> BTreeMap<String, Value> {
    let known: BTreeSet<&str> = KUBEADM_FIELDS.iter().copied().collect();
    let mut found = Vec::new();
    paths(&format!("{kind}:"), doc, &mut found);
    for (path, _) in &found {
        assert!(
            known.contains(path.as_str()),
            "{path} is not a kubeadm v1beta4 field"
        );
    }
    found.into_iter().collect()
}

#[test]
fn kubeadm_configs_have_v1beta4_fields_and_the_labs_token_endpoint_and_ca_hash() {
    let labrun = Labrun::offline();
    let fixture = "tests/fixtures/labs/kube/kubeadm.lua";
    let dir = tempfile::tempdir().unwrap();
    render(&labrun, fixture, dir.path(), &[]);
    // The formula for the discovery hash, from the lab's CA.
    let ca = dir.path().join("ca.crt");
    let der = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl x509 -pubkey -noout -in {} | openssl rsa -pubin -outform der 2>/dev/null | sha256sum",
            ca.display()
        ))
        .output()
        .unwrap();
    let hash = format!(
        "sha256:{}",
        String::from_utf8_lossy(&der.stdout)
            .split_whitespace()
            .next()
            .unwrap()
    );
    assert_eq!(hash.len(), 71, "{hash}");

    let lab = Rendered::new(labrun, "labs/kube-kubeadm.lua", &[]);
    render(
        &lab.labrun,
        fixture,
        dir.path(),
        &["--var", &format!("ca_cert_hash={hash}")],
    );
    assert_eq!(
        std::fs::read(&ca).unwrap(),
        std::fs::read(lab.node("control-01").join("etc/kubernetes/pki/ca.crt")).unwrap()
    );

    let text = std::fs::read_to_string(
        lab.node("control-01")
            .join("etc/kubernetes/kubeadm-init.yaml"),
    )
    .unwrap();
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    assert_eq!(docs.len(), 3);
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "InitConfiguration",
            "ClusterConfiguration",
            "KubeletConfiguration"
        ]
    );
    let init = check_fields("init", &docs[0]);
    let cluster = check_fields("cluster", &docs[1]);
    check_fields("kubelet", &docs[2]);
    assert_eq!(docs[0]["apiVersion"], "kubeadm.k8s.io/v1beta4");
    assert_eq!(docs[1]["apiVersion"], "kubeadm.k8s.io/v1beta4");
    assert_eq!(docs[2]["apiVersion"], "kubelet.config.k8s.io/v1beta1");

    let token = init["init:bootstrapTokens[].token"]
        .as_str()
        .unwrap()
        .to_string();
    let (id, secret) = token.split_once('.').unwrap();
    let lower = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    assert!(
        id.len() == 6 && secret.len() == 16 && lower(id) && lower(secret),
        "{token}"
    );
    assert_eq!(
        init["init:localAPIEndpoint.advertiseAddress"],
        "10.10.16.11"
    );
    assert_eq!(init["node:name"], "control-01");
    assert_eq!(
        init["node:criSocket"],
        "unix:///run/containerd/containerd.sock"
    );
    assert_eq!(cluster["cluster:controlPlaneEndpoint"], "api.kubelius:6443");
    assert_eq!(
        cluster["cluster:kubernetesVersion"],
        format!("v{VERSION}").as_str()
    );
    assert_eq!(cluster["cluster:certificatesDir"], "/etc/kubernetes/pki");
    assert_eq!(docs[2]["cgroupDriver"], "systemd");
    // Every CA kubeadm init reuses is on the node, with its key.
    for ca in ["ca", "etcd/ca", "front-proxy-ca", "sa"] {
        for ext in if ca == "sa" {
            ["key", "pub"]
        } else {
            ["crt", "key"]
        } {
            assert!(
                lab.node("control-01")
                    .join(format!("etc/kubernetes/pki/{ca}.{ext}"))
                    .exists(),
                "{ca}.{ext}"
            );
        }
    }
    // kubeadm makes kubelet.conf (init) or bootstraps it (join): the lab does not write it.
    for (node, _) in NODES {
        assert!(
            !lab.node(node).join("etc/kubernetes/kubelet.conf").exists(),
            "{node}"
        );
    }

    let join_text =
        std::fs::read_to_string(dir.path().join("control-02/kubeadm-join.yaml")).unwrap();
    let join_doc: Value = serde_saphyr::from_str(&join_text).unwrap();
    let join = check_fields("join", &join_doc);
    assert_eq!(join["join:kind"], "JoinConfiguration");
    assert_eq!(join["join:discovery.bootstrapToken.token"], token.as_str());
    assert_eq!(
        join["join:discovery.bootstrapToken.apiServerEndpoint"],
        "api.kubelius:6443"
    );
    assert_eq!(
        join["join:discovery.bootstrapToken.caCertHashes[]"],
        hash.as_str()
    );
    assert_eq!(
        join["join:controlPlane.localAPIEndpoint.advertiseAddress"],
        "10.10.16.12"
    );
    assert_eq!(
        join["node:ignorePreflightErrors[]"],
        "FileAvailable--etc-kubernetes-pki-ca.crt"
    );
    assert!(!join_text.contains("unsafeSkipCAVerification"));
}

#[test]
fn yaml_the_kube_modules_write_reads_back_as_the_table_it_came_from() {
    let labrun = Labrun::offline();
    let dir = tempfile::tempdir().unwrap();
    render(
        &labrun,
        "tests/fixtures/labs/kube/yaml.lua",
        dir.path(),
        &[],
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("value.json")).unwrap())
            .unwrap();
    let yaml_text = std::fs::read_to_string(dir.path().join("value.yaml")).unwrap();
    let read: Value = serde_saphyr::from_str(&yaml_text).unwrap();
    // labrun.json writes the empty list and map as `{}`: compare those by shape.
    let mut expected = json.clone();
    expected["nested"][0]["empty"] = serde_json::json!([]);
    assert_eq!(read, expected, "{yaml_text}");
    // Plain where YAML reads it right, as Kubernetes tools print it.
    assert!(
        yaml_text.contains("- v1.35.1\n") && yaml_text.contains("- Node,RBAC\n"),
        "{yaml_text}"
    );
}

//! The Kubernetes PKI of the design's table, checked with openssl.

use super::{extensions, kube, openssl, subject, write_material};

const SERVER: &str = "TLS Web Server Authentication";
const CLIENT: &str = "TLS Web Client Authentication";
const BOTH: &str = "TLS Web Server Authentication, TLS Web Client Authentication";
const NODES: [(&str, &str); 3] = [
    ("control-1", "10.10.16.11"),
    ("control-2", "10.10.16.12"),
    ("control-3", "10.10.16.13"),
];

/// One row of the design's table, spelled the way openssl prints it.
struct Row {
    name: String,
    /// Issuers from the nearest up to the self-signed one.
    chain: &'static [&'static str],
    subject: String,
    eku: &'static str,
    sans: String,
}

fn row(name: &str, chain: &'static [&'static str], subject: &str, eku: &'static str) -> Row {
    Row {
        name: name.into(),
        chain,
        subject: subject.into(),
        eku,
        sans: String::new(),
    }
}

/// The design's table for three nodes; CAs are checked separately.
fn table() -> Vec<Row> {
    const CA: &[&str] = &["ca", "root-ca"];
    const ETCD: &[&str] = &["etcd/ca", "root-ca"];
    let mut rows = vec![
        row(
            "apiserver-kubelet-client",
            CA,
            "O = kubeadm:cluster-admins, CN = kube-apiserver-kubelet-client",
            CLIENT,
        ),
        row(
            "front-proxy-client",
            &["front-proxy-ca"],
            "CN = front-proxy-client",
            CLIENT,
        ),
        row(
            "apiserver-etcd-client",
            ETCD,
            "CN = kube-apiserver-etcd-client",
            CLIENT,
        ),
        row(
            "admin.conf",
            CA,
            "O = kubeadm:cluster-admins, CN = kubernetes-admin",
            CLIENT,
        ),
        row(
            "super-admin.conf",
            CA,
            "O = system:masters, CN = kubernetes-super-admin",
            CLIENT,
        ),
        row(
            "controller-manager.conf",
            CA,
            "CN = system:kube-controller-manager",
            CLIENT,
        ),
        row("scheduler.conf", CA, "CN = system:kube-scheduler", CLIENT),
    ];
    for (node, ip) in NODES {
        rows.push(Row {
            sans: format!(
                "DNS:{node}, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, \
                 DNS:kubernetes.default.svc.cluster.local, DNS:api.kubelius, \
                 IP Address:10.96.0.1, IP Address:{ip}, IP Address:10.10.16.10"
            ),
            ..row(
                &format!("{node}/apiserver"),
                CA,
                "CN = kube-apiserver",
                SERVER,
            )
        });
        for kind in ["server", "peer"] {
            rows.push(Row {
                sans: format!(
                    "DNS:{node}, DNS:localhost, IP Address:{ip}, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"
                ),
                ..row(
                    &format!("{node}/etcd/{kind}"),
                    ETCD,
                    &format!("CN = {node}"),
                    BOTH,
                )
            });
        }
        rows.push(row(
            &format!("{node}/kubelet.conf"),
            CA,
            &format!("O = system:nodes, CN = system:node:{node}"),
            CLIENT,
        ));
    }
    rows
}

#[test]
fn every_certificate_matches_the_design_and_verifies_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_material(dir.path(), &kube().material);
    let path = |name: &str| paths[name].to_str().unwrap().to_string();

    // The CAs: the root and front-proxy-ca self-signed, the etcd and
    // kubernetes intermediates under the root.
    for (name, cn, anchor) in [
        ("root-ca", "kubelius-root-ca", "root-ca"),
        ("ca", "kubernetes", "root-ca"),
        ("etcd/ca", "etcd-ca", "root-ca"),
        ("front-proxy-ca", "front-proxy-ca", "front-proxy-ca"),
    ] {
        let out = openssl(&[
            "verify",
            "-x509_strict",
            "-CAfile",
            &path(anchor),
            &path(name),
        ]);
        assert!(out.trim().ends_with(": OK"), "{name}: {out}");
        assert_eq!(subject(&paths[name]), format!("CN = {cn}"));
        let ext = extensions(&paths[name]);
        assert!(
            ext["X509v3 Basic Constraints"].starts_with("critical: CA:TRUE"),
            "{name}"
        );
        assert_eq!(
            ext["X509v3 Key Usage"],
            "critical: Digital Signature, Key Encipherment, Certificate Sign",
            "{name}"
        );
    }

    let rows = table();
    assert_eq!(
        rows.len() + 4,
        kube().material.certs.len(),
        "every certificate has a row"
    );
    for row in rows {
        let name = &row.name;
        let (anchor, untrusted) = match row.chain {
            [only] => (path(only), vec![]),
            [intermediate, root] => (path(root), vec!["-untrusted".into(), path(intermediate)]),
            _ => unreachable!(),
        };
        let purpose = if row.eku == SERVER {
            "sslserver"
        } else {
            "sslclient"
        };
        let mut args = vec![
            "verify",
            "-x509_strict",
            "-purpose",
            purpose,
            "-CAfile",
            &anchor,
        ];
        args.extend(untrusted.iter().map(String::as_str));
        let leaf = path(name);
        args.push(&leaf);
        let out = openssl(&args);
        assert!(out.trim().ends_with(": OK"), "{name}: {out}");

        assert_eq!(subject(&paths[name.as_str()]), row.subject, "{name}");
        let ext = extensions(&paths[name.as_str()]);
        assert_eq!(
            ext["X509v3 Basic Constraints"], "critical: CA:FALSE",
            "{name}"
        );
        assert_eq!(
            ext["X509v3 Key Usage"], "critical: Digital Signature, Key Encipherment",
            "{name}"
        );
        assert_eq!(ext["X509v3 Extended Key Usage"], row.eku, "{name}");
        assert_eq!(
            ext.get("X509v3 Subject Alternative Name")
                .cloned()
                .unwrap_or_default(),
            row.sans,
            "{name}"
        );
    }
}

#[test]
fn ca_keys_are_rsa_4096_and_the_rest_rsa_2048_with_a_service_account_key() {
    let dir = tempfile::tempdir().unwrap();
    let material = &kube().material;
    write_material(dir.path(), material);
    assert_eq!(material.keys.len(), 24);
    for name in material.keys.keys() {
        let key = dir.path().join(format!("{name}.key"));
        let text = openssl(&["pkey", "-in", key.to_str().unwrap(), "-noout", "-text"]);
        let ca = material.certs.get(name).is_some_and(|c| c.summary().is_ca);
        let bits = if ca { 4096 } else { 2048 };
        assert!(
            text.starts_with(&format!("Private-Key: ({bits} bit")),
            "{name}: {text}"
        );
    }
    let sa = dir.path().join("sa.key");
    let public = openssl(&["pkey", "-in", sa.to_str().unwrap(), "-pubout"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sa.pub")).unwrap(),
        public
    );
}

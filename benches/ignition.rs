//! Translation time of a Kubernetes control-node sized Butane config
//! (≈20 files, ≈40 KB with PEM-like certificates and keys).
//! Run: cargo bench --bench ignition

use std::fmt::Write;
use std::hint::black_box;
use std::time::Instant;

use base64::Engine;
use labrun::ignition::{Options, to_json_string, translate_yaml};

/// Deterministic pseudo-random bytes (xorshift), as incompressible as real keys.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn pem(label: &str, seed: u64, der_len: usize) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(noise(seed, der_len));
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    writeln!(out, "-----END {label}-----").unwrap();
    out
}

fn file(yaml: &mut String, path: &str, mode: &str, contents: &str) {
    writeln!(
        yaml,
        "    - path: {path}\n      mode: {mode}\n      contents:\n        inline: |"
    )
    .unwrap();
    for line in contents.lines() {
        writeln!(yaml, "          {line}").unwrap();
    }
}

fn control_node_config() -> String {
    let mut yaml = String::from("variant: fcos\nversion: 1.6.0\nstorage:\n  files:\n");
    let mut seed = 1;
    let mut next = || {
        seed += 1;
        seed
    };
    for name in ["ca", "etcd/ca", "front-proxy-ca"] {
        file(
            &mut yaml,
            &format!("/etc/kubernetes/pki/{name}.crt"),
            "0644",
            &pem("CERTIFICATE", next(), 1100),
        );
    }
    for name in [
        "apiserver",
        "apiserver-kubelet-client",
        "front-proxy-client",
        "etcd/server",
        "etcd/peer",
        "apiserver-etcd-client",
    ] {
        file(
            &mut yaml,
            &format!("/etc/kubernetes/pki/{name}.crt"),
            "0644",
            &pem("CERTIFICATE", next(), 1150),
        );
        file(
            &mut yaml,
            &format!("/etc/kubernetes/pki/{name}.key"),
            "0600",
            &pem("RSA PRIVATE KEY", next(), 1190),
        );
    }
    file(
        &mut yaml,
        "/etc/kubernetes/pki/sa.key",
        "0600",
        &pem("RSA PRIVATE KEY", next(), 1190),
    );
    for conf in ["admin", "controller-manager", "scheduler"] {
        let kubeconfig = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: kubelius\n  cluster:\n    server: https://api.kubelius:6443\n    certificate-authority-data: {}\nusers:\n- name: {conf}\n  user:\n    client-certificate-data: {}\n",
            base64::engine::general_purpose::STANDARD.encode(noise(next(), 700)),
            base64::engine::general_purpose::STANDARD.encode(noise(next(), 700)),
        );
        file(
            &mut yaml,
            &format!("/etc/kubernetes/{conf}.conf"),
            "0600",
            &kubeconfig,
        );
    }
    let manifest = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/butane/09-big-inline.bu"
    ))
    .unwrap();
    let pod: String = manifest
        .lines()
        .skip(8)
        .map(|l| format!("{}\n", l.get(10..).unwrap_or("")))
        .collect();
    file(
        &mut yaml,
        "/etc/kubernetes/manifests/etcd.yaml",
        "0644",
        &pod,
    );
    file(&mut yaml, "/etc/hostname", "0644", "control-01\n");
    file(
        &mut yaml,
        "/etc/hosts",
        "0644",
        "127.0.0.1 localhost\n10.10.16.10 api.kubelius\n10.10.16.11 control-01\n",
    );
    yaml.push_str("systemd:\n  units:\n    - name: kubelet.service\n      enabled: true\n      contents: |\n        [Service]\n        ExecStart=/usr/bin/kubelet\n        [Install]\n        WantedBy=multi-user.target\n");
    yaml
}

fn main() {
    let yaml = control_node_config();
    let opts = Options::default();
    let out = translate_yaml("control-01.bu", &yaml, &opts).expect("benchmark config translates");
    let files = out["storage"]["files"].as_array().map_or(0, Vec::len);
    let json = to_json_string(&out);
    // `cargo test` runs this once as a check; only `cargo bench` times it.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    for _ in 0..20 {
        black_box(translate_yaml("control-01.bu", black_box(&yaml), &opts).unwrap());
    }
    let rounds = 500;
    let start = Instant::now();
    for _ in 0..rounds {
        black_box(to_json_string(
            &translate_yaml("control-01.bu", black_box(&yaml), &opts).unwrap(),
        ));
    }
    let per = start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    println!(
        "control node: {files} files, {} bytes of Butane, {} bytes of Ignition JSON",
        yaml.len(),
        json.len()
    );
    println!("translate_yaml + to_json_string: {per:.0} µs per config ({rounds} rounds)");
}

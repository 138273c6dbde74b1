//! A lab that leaks nothing (against a real moto_server): no private key in
//! any instance's user data (only a stub whose short-lived URL serves the
//! config), IMDSv2 only, encrypted root volumes, SSH open to the user's own
//! address, a locked-down bucket, and no key material in anything labrun
//! prints.

mod common;

use common::{Labrun, MY_PUBLIC_IP, Moto, text};

/// Every private key and secret string a lab keeps in its secrets.json.
fn secret_values(labrun: &Labrun, lab: &str) -> Vec<String> {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s)
                if s.len() >= 16
                    && !s.contains("PUBLIC KEY")
                    && !s.contains("CERTIFICATE")
                    && !s.starts_with("ssh-") =>
            {
                out.push(s.clone())
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            serde_json::Value::Object(m) => m.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let text = std::fs::read(labrun.lab_dir(lab).join("secrets.json")).unwrap();
    let mut out = Vec::new();
    walk(&serde_json::from_slice(&text).unwrap(), &mut out);
    assert!(out.len() >= 3, "the lab keeps keys: {out:?}");
    out
}

/// The body of PEM/OpenSSH private keys, without their armour lines.
fn key_bodies(secrets: &[String]) -> Vec<String> {
    secrets
        .iter()
        .flat_map(|s| {
            s.lines()
                .filter(|l| l.len() > 40 && !l.starts_with("-----"))
                .map(String::from)
        })
        .collect()
}

fn assert_no_secret(what: &str, text: &str, secrets: &[String]) {
    for marker in ["PRIVATE KEY", "PrivateKey", "PresharedKey"] {
        assert!(!text.contains(marker), "{what} holds {marker}");
    }
    for body in key_bodies(secrets) {
        assert!(
            !text.contains(&body),
            "{what} holds a line of a private key"
        );
    }
    for s in secrets.iter().filter(|s| !s.contains('\n')) {
        assert!(!text.contains(s.as_str()), "{what} holds a secret value");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn shipped_labs_keep_keys_out_of_user_data_and_output() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let ec2 = moto.ec2().await;
    let s3 = moto.s3().await;
    for lab in ["nat", "vpn"] {
        let mut printed = String::new();
        let mut run = |args: &[&str]| {
            let out = labrun.run(args);
            assert!(out.status.success(), "{args:?}: {}", text(&out));
            printed.push_str(&String::from_utf8_lossy(&out.stdout));
            printed.push_str(&String::from_utf8_lossy(&out.stderr));
        };
        let dir = tempfile::tempdir().unwrap();
        run(&["plan", lab, "--json"]);
        run(&["plan", lab]);
        run(&["up", lab, "--yes"]);
        run(&["up", lab, "--yes", "--json"]);
        run(&["render", lab, dir.path().to_str().unwrap(), "--json"]);
        run(&["status", lab, "--json"]);
        run(&["ls", "--json", "--local"]);
        let secrets = secret_values(&labrun, lab);
        assert_no_secret(&format!("{lab}: labrun's output"), &printed, &secrets);

        let out = ec2.describe_instances().send().await.unwrap();
        let instances: Vec<_> = (out.reservations().iter().flat_map(|r| r.instances()))
            .filter(|i| i.state().and_then(|s| s.name()).map(|n| n.as_str()) == Some("running"))
            .filter(|i| {
                i.tags()
                    .iter()
                    .any(|t| t.key() == Some("labrun:lab") && t.value() == Some(lab))
            })
            .collect();
        assert!(!instances.is_empty());
        for i in instances {
            let address = (i.tags().iter())
                .find(|t| t.key() == Some("labrun:resource"))
                .and_then(|t| t.value())
                .unwrap()
                .to_string();
            let data = common::user_data(&ec2, lab, &address).await;
            assert_no_secret(&format!("{lab} {address}'s user data"), &data, &secrets);
            let stub: serde_json::Value = serde_json::from_str(&data).unwrap();
            let url = stub["ignition"]["config"]["replace"]["source"]
                .as_str()
                .unwrap();
            assert!(url.contains("X-Amz-Expires=900"), "a 15-minute URL: {url}");
            // The URL serves the whole config, which has the host key.
            let config = common::node_config(&ec2, lab, &address).await;
            assert!(config.len() > data.len());
            let metadata = i.metadata_options().unwrap();
            assert_eq!(
                metadata.http_tokens().map(|t| t.as_str()),
                Some("required"),
                "{address}"
            );
            assert_eq!(metadata.http_put_response_hop_limit(), Some(1), "{address}");
            let volume = &i.block_device_mappings()[0];
            let id = volume.ebs().unwrap().volume_id().unwrap();
            let v = ec2.describe_volumes().volume_ids(id).send().await.unwrap();
            assert_eq!(
                v.volumes()[0].encrypted(),
                Some(true),
                "{address}'s root volume"
            );
        }

        let groups = ec2.describe_security_groups().send().await.unwrap();
        let gateway = (groups.security_groups().iter())
            .find(|g| {
                g.tags().iter().any(|t| {
                    t.key() == Some("labrun:resource")
                        && t.value() == Some("security_group.gateway")
                }) && g
                    .tags()
                    .iter()
                    .any(|t| t.key() == Some("labrun:lab") && t.value() == Some(lab))
            })
            .unwrap();
        for rule in gateway.ip_permissions() {
            if rule.ip_protocol() == Some("-1") {
                continue; // traffic from the private subnets to NAT
            }
            let cidrs: Vec<_> = rule
                .ip_ranges()
                .iter()
                .filter_map(|r| r.cidr_ip())
                .collect();
            assert_eq!(cidrs, [format!("{MY_PUBLIC_IP}/32")], "{lab}: {rule:?}");
        }

        let bucket = common::lab_buckets(&s3, lab)
            .await
            .pop()
            .expect("the lab's bucket");
        let block = s3
            .get_public_access_block()
            .bucket(&bucket)
            .send()
            .await
            .unwrap();
        let block = block.public_access_block_configuration().unwrap();
        assert_eq!(
            (
                block.block_public_acls(),
                block.ignore_public_acls(),
                block.block_public_policy(),
                block.restrict_public_buckets()
            ),
            (Some(true), Some(true), Some(true), Some(true))
        );
        let sse = s3
            .get_bucket_encryption()
            .bucket(&bucket)
            .send()
            .await
            .unwrap();
        let rule = &sse.server_side_encryption_configuration().unwrap().rules()[0];
        let default = rule.apply_server_side_encryption_by_default().unwrap();
        assert_eq!(default.sse_algorithm().as_str(), "AES256");

        let out = labrun.run(&["down", lab, "--yes"]);
        assert!(out.status.success(), "{}", text(&out));
    }
}

/// The Kubernetes labs' after-up steps need real nodes, so they are not
/// brought up here; their plans show every node's config going through the
/// bucket, none in user data.
#[test]
fn kubernetes_labs_put_no_node_config_in_user_data() {
    let labrun = Labrun::offline();
    for lab in ["kube", "kube-kubeadm"] {
        let out = labrun.run(&["plan", lab]);
        assert!(out.status.success(), "{}", text(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let instances: Vec<&str> = stdout
            .lines()
            .filter(|l| l.contains("+ instance."))
            .collect();
        assert_eq!(instances.len(), 4, "{stdout}");
        for line in instances {
            assert!(
                line.contains("user_data_s3={object = (s3_object."),
                "{lab}: {line}"
            );
            assert!(!line.contains(" user_data="), "{lab}: {line}");
        }
        assert_no_secret(
            &format!("{lab}: plan"),
            &stdout,
            &secret_values(&labrun, lab),
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ssh_opens_to_everyone_only_when_asked() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let out = labrun.run(&["plan", "nat", "--var", "ssh_from=0.0.0.0/0"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("cidr = \"0.0.0.0/0\""));
    let out = labrun.run(&["plan", "nat"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("cidr = \"{MY_PUBLIC_IP}/32\"")),
        "plan shows the address found: {stdout}"
    );
    // No service to ask: a clear error saying what to pass, nothing made.
    let out = labrun
        .command(&["up", "nat", "--yes"])
        .env(
            "LABRUN_CHECKIP_URL",
            format!("http://127.0.0.1:{}/", common::sshd::free_port("127.0.0.1")),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot find your public address") && err.contains("--var ssh_from=CIDR"),
        "{err}"
    );
    assert_eq!(moto.recorded().len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tls_only_policy_refuses_plain_http() {
    // labrun leaves the policy out when its endpoint is plain HTTP (it would
    // lock labrun out of the emulator); here the policy it writes on AWS is
    // put on a bucket by hand, and the emulator enforces it.
    let moto = Moto::start();
    let s3 = moto.s3().await;
    s3.create_bucket()
        .bucket("tls-only-test")
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket("tls-only-test")
        .key("before")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    let policy = labrun::aws::kinds::s3_bucket::tls_only_policy("tls-only-test");
    s3.put_bucket_policy()
        .bucket("tls-only-test")
        .policy(policy)
        .send()
        .await
        .unwrap();
    let refused = s3
        .put_object()
        .bucket("tls-only-test")
        .key("after")
        .body(b"x".to_vec().into())
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a plain-HTTP write after the policy must be refused"
    );
}

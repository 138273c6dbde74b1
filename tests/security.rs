//! A lab that leaks nothing (against a real moto_server): no private key in
//! any instance's user data (only a stub whose short-lived URL serves the
//! config), IMDSv2 only, encrypted root volumes, SSH open to the user's own
//! address, a locked-down bucket, and no key material in anything labrun
//! prints.

mod common;

use common::leaks::{assert_no_secret, secret_values};
use common::{Labrun, MY_PUBLIC_IP, Moto, text};

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

        common::leaks::assert_nodes_keep_no_secret(&ec2, lab, &secrets).await;

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

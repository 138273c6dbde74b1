//! The Kubernetes labs' after-up steps, run by `labrun up` against moto and
//! three real sshd hosts standing in for the nodes, reached through a fourth
//! standing in for the gateway (tests/common/kube_standins.rs). kubeadm,
//! kubectl, systemctl, crictl and curl on them are stand-ins: no kube
//! binary can run here. What is real: the SSH route through the gateway,
//! sudo, the files labrun rendered for each node, openssl computing the CA
//! hash, kubectl and curl checking TLS against `openssl s_server`s that
//! serve the lab's API server certificates.

mod common;

use common::leaks::{assert_no_secret, assert_nodes_keep_no_secret, secret_values};

use common::kube_standins::{NODES, Standins, render};
use common::wireguard::{assert_pair_up, value, vpn_lab};
use common::x509::openssl;
use common::{Labrun, MY_PUBLIC_IP, Moto, tagged, text};
use serde_json::Value;
use std::path::Path;

/// Marks every after-up step of `lab` as not done, as the apply that makes
/// a reclaimed node again does (moto cannot make an instance again at the
/// address of a terminated one, so the test does not go through AWS here).
fn steps_to_do_again(labrun: &Labrun, lab: &str) {
    let path = labrun.lab_dir(lab).join("state.json");
    let mut state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    state["done_steps"] = serde_json::json!([]);
    std::fs::write(&path, state.to_string()).unwrap();
}

/// kubeadm's discovery hash of a CA, as its documentation computes it:
/// `openssl x509 -pubkey | openssl rsa -pubin -outform der | sha256sum`.
fn ca_hash(ca: &Path) -> String {
    let pubkey = openssl(&["x509", "-pubkey", "-noout", "-in", ca.to_str().unwrap()]);
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("ca.pub");
    std::fs::write(&pem, pubkey).unwrap();
    let der = std::process::Command::new("openssl")
        .args(["rsa", "-pubin", "-outform", "der", "-in"])
        .arg(&pem)
        .output()
        .unwrap();
    assert!(der.status.success(), "{der:?}");
    let sum = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(&der.stdout)?;
            c.wait_with_output()
        })
        .unwrap();
    let text = String::from_utf8(sum.stdout).unwrap();
    format!("sha256:{}", text.split_whitespace().next().unwrap())
}

fn yaml(path: &Path) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The calls of `program` with `subcommand` among `calls`.
fn of<'a>(calls: &'a [String], program: &str, subcommand: &str) -> Vec<&'a str> {
    calls
        .iter()
        .map(String::as_str)
        .filter(|c| c.split(' ').nth(1) == Some(program) && c.split(' ').nth(2) == Some(subcommand))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn kubeadm_inits_once_then_both_nodes_join_at_once_a_failed_join_reruns_alone_and_a_remade_node_rejoins()
 {
    const LAB: &str = "labs/kube-kubeadm.lua";
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let rendered = render(&labrun, &[LAB]);
    let mut nodes = Standins::start(
        &labrun,
        "kube-kubeadm",
        rendered.path(),
        10,
        &["control-02", "control-03"],
    );
    let fail = nodes.record.path().join("fail-join-control-03");
    std::fs::write(&fail, "").unwrap();

    let out = nodes.up(&labrun, &[LAB]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("✓ step kubeadm-init"), "{err}");
    assert!(
        err.contains("✗ step kubeadm-join") && err.contains("connection refused"),
        "{err}"
    );
    assert!(
        err.contains("step api-ready: not run, kubeadm-join failed"),
        "{err}"
    );

    let first = nodes.calls();
    let inits = of(&first, "kubeadm", "init");
    assert_eq!(
        inits,
        ["control-01 kubeadm init --config /etc/kubernetes/kubeadm-init.yaml"],
        "{first:#?}"
    );
    let [init] = &nodes.copies("control-01", "kubeadm-init")[..] else {
        panic!("one init config")
    };
    assert_eq!(
        std::fs::read_to_string(init).unwrap(),
        std::fs::read_to_string(
            rendered
                .path()
                .join("control-01/etc/kubernetes/kubeadm-init.yaml")
        )
        .unwrap(),
        "init ran with the config rendered for control-01"
    );
    let joins = of(&first, "kubeadm", "join");
    let position = |call: &str| first.iter().position(|c| c == call).unwrap();
    for j in &joins {
        assert!(
            position(j) > position(inits[0]),
            "joins after init: {first:#?}"
        );
    }
    let mut joined: Vec<&str> = joins.iter().map(|c| c.split(' ').next().unwrap()).collect();
    joined.sort();
    assert_eq!(joined, ["control-02", "control-03"], "{first:#?}");
    // control-02's join waited for control-03's to start and then succeeded:
    // the two ran at the same time.
    assert!(
        nodes
            .node("control-02")
            .etc
            .join("kubernetes/kubelet.conf")
            .exists()
    );
    assert!(
        !nodes
            .node("control-03")
            .etc
            .join("kubernetes/kubelet.conf")
            .exists()
    );

    let token = format!(
        "{}.{}",
        labrun.secret("kube-kubeadm", "random")["kubeadm-token-id"]
            .as_str()
            .unwrap(),
        labrun.secret("kube-kubeadm", "random")["kubeadm-token-secret"]
            .as_str()
            .unwrap()
    );
    let hash = ca_hash(&rendered.path().join("control-01/etc/kubernetes/pki/ca.crt"));
    for (name, ip) in &NODES[1..] {
        let [config] = &nodes.copies(name, "kubeadm-join")[..] else {
            panic!("one join config on {name}")
        };
        let doc = yaml(config);
        let discovery = &doc["discovery"]["bootstrapToken"];
        assert_eq!(doc["kind"], "JoinConfiguration");
        assert_eq!(discovery["token"], token.as_str(), "{name}");
        assert_eq!(
            discovery["caCertHashes"],
            serde_json::json!([hash]),
            "{name}"
        );
        assert_eq!(discovery["apiServerEndpoint"], "api.kubelius:6443");
        assert_eq!(
            doc["controlPlane"]["localAPIEndpoint"]["advertiseAddress"], *ip,
            "{name} joins as a control node"
        );
    }

    // The next up runs what did not finish: control-03's join, then the API check.
    std::fs::remove_file(&fail).unwrap();
    let out = nodes.up(&labrun, &[LAB]);
    assert!(out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("step kubeadm-init") && !err.contains("step runtime-ready"),
        "{err}"
    );
    let all = nodes.calls();
    let second = &all[first.len()..];
    assert!(of(second, "kubeadm", "init").is_empty(), "{second:#?}");
    assert_eq!(
        of(second, "kubeadm", "join"),
        ["control-03 kubeadm join --config /etc/kubernetes/kubeadm-join.yaml"],
        "only the failed join ran again: {second:#?}"
    );
    assert!(
        of(second, "kubeadm", "token")
            .iter()
            .all(|c| !c.contains("create")),
        "the token init made is still known: {second:#?}"
    );
    // kubectl (the real one) reached the API name with the node's admin.conf.
    assert!(
        second.iter().any(|c| c.starts_with(
            "control-01 kubectl --kubeconfig=/etc/kubernetes/admin.conf get --raw /readyz"
        )),
        "{second:#?}"
    );

    // AWS reclaims control-01 (a spot node) and `up` makes it again, fresh.
    // The cluster lives on in the two others: control-01 joins them, once
    // its old Node and etcd member are removed, instead of making another.
    nodes.remake(&labrun, "kube-kubeadm", "control-01");
    steps_to_do_again(&labrun, "kube-kubeadm");
    let before = nodes.calls().len();
    let out = nodes.up(&labrun, &[LAB]);
    assert!(out.status.success(), "{}", text(&out));
    let third = &nodes.calls()[before..];
    assert!(of(third, "kubeadm", "init").is_empty(), "{third:#?}");
    assert_eq!(
        of(third, "kubeadm", "join"),
        ["control-01 kubeadm join --config /etc/kubernetes/kubeadm-join.yaml"],
        "{third:#?}"
    );
    let on_02 = |what: &str| {
        third
            .iter()
            .any(|c| c.starts_with("control-02 kubectl") && c.contains(what))
    };
    assert!(on_02("get node control-01"), "{third:#?}");
    assert!(on_02("-- etcdctl") && on_02("member remove"), "{third:#?}");
    assert!(on_02("delete node control-01"), "{third:#?}");
    let members = std::fs::read_to_string(nodes.record.path().join("etcd-members")).unwrap();
    let mut members: Vec<&str> = members.lines().collect();
    members.sort();
    assert_eq!(members, ["control-01", "control-02", "control-03"]);

    assert_api_endpoint_on_the_gateway(&moto, "kube-kubeadm").await;
    assert_api_through_the_vpn(&moto, &labrun, "kube-kubeadm").await;

    // Down finds everything by its tag even when the lab's folder is gone.
    std::fs::remove_dir_all(labrun.lab_dir("kube-kubeadm")).unwrap();
    let out = labrun.run(&["down", "kube-kubeadm", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(tagged(&moto, "kube-kubeadm").await, Vec::<String>::new());
}

/// An EC2 filter of `name` by `value`.
fn f(name: &str, value: &str) -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder()
        .name(name)
        .values(value)
        .build()
}

/// Whom the security group `name` of `lab` lets in on `protocol` `port`
/// (a rule of that port alone), sorted.
async fn open_to(
    ec2: &aws_sdk_ec2::Client,
    lab: &str,
    name: &str,
    protocol: &str,
    port: i32,
) -> Vec<String> {
    let groups = ec2
        .describe_security_groups()
        .filters(f("tag:labrun:resource", &format!("security_group.{name}")))
        .filters(f("tag:labrun:lab", lab))
        .send()
        .await
        .unwrap();
    let [group] = groups.security_groups() else {
        panic!("one group {name}: {groups:?}")
    };
    let rule = (group.ip_permissions().iter())
        .find(|p| {
            p.ip_protocol() == Some(protocol)
                && p.from_port() == Some(port)
                && p.to_port() == Some(port)
        })
        .unwrap_or_else(|| panic!("{name} lets nobody in on {protocol} {port}"));
    let mut from: Vec<String> = (rule.ip_ranges().iter())
        .filter_map(|r| r.cidr_ip().map(str::to_string))
        .collect();
    from.sort();
    from
}

/// The default API endpoint as declared: the control nodes at their fixed
/// addresses, spot, letting in 6443 from the VPC and the VPN net, where the gateway
/// (10.10.31.10) runs HAProxy; no load balancer of AWS's.
async fn assert_api_endpoint_on_the_gateway(moto: &Moto, lab: &str) {
    let ec2 = moto.ec2().await;
    let out = ec2
        .describe_instances()
        .filters(f("tag:labrun:lab", lab))
        .filters(f("instance-state-name", "running"))
        .send()
        .await
        .unwrap();
    let mut found: Vec<(String, String, String)> = (out.reservations().iter())
        .flat_map(|r| r.instances())
        .map(|i| {
            let tag = i.tags().iter().find(|t| t.key() == Some("labrun:resource"));
            (
                tag.and_then(|t| t.value()).unwrap().to_string(),
                i.private_ip_address().unwrap().to_string(),
                i.instance_type().unwrap().as_str().to_string(),
            )
        })
        .collect();
    found.sort();
    let expected: Vec<(String, String, String)> = NODES
        .iter()
        .map(|(n, ip)| (format!("instance.{n}"), ip.to_string(), "t4g.small".into()))
        .chain([(
            "instance.gateway".into(),
            "10.10.31.10".into(),
            "t4g.nano".into(),
        )])
        .collect();
    assert_eq!(found, expected);
    assert_eq!(
        open_to(&ec2, lab, "control", "tcp", 6443).await,
        ["10.10.16.0/20", "10.200.0.0/24"],
        "the API from the VPC and the VPN net"
    );
    assert!(
        gateway_config(moto, lab).await.contains("api-lb.service"),
        "HAProxy on the gateway"
    );
}

/// The gateway is the lab's WireGuard server too: its group lets this
/// machine in on UDP 51820, `labrun wg LAB laptop` prints a config whose
/// peer is the gateway's Elastic IP and whose tunnel carries the VPC (so the
/// endpoint at 10.10.31.10), and `labrun kubeconfig LAB --vpn` names a
/// kubeconfig reaching that address without the SSH tunnel's proxy.
async fn assert_api_through_the_vpn(moto: &Moto, labrun: &Labrun, lab: &str) {
    assert_eq!(
        open_to(&moto.ec2().await, lab, "gateway", "udp", 51820).await,
        [format!("{MY_PUBLIC_IP}/32")],
        "WireGuard open to this machine alone"
    );

    let vpn = vpn_lab(moto, labrun, lab).await;
    assert!(
        common::ignition::enables(&vpn.ignition, "wg-quick@wg0.service"),
        "the gateway runs the tunnel"
    );
    let out = labrun.run(&["wg", lab, "laptop"]);
    assert!(out.status.success(), "{}", text(&out));
    let config = String::from_utf8(out.stdout).unwrap();
    assert_pair_up(&vpn.server.1, &vpn.clients);
    assert_eq!(
        value(&config, "Peer", "Endpoint"),
        format!("{}:51820", vpn.public_ip)
    );
    assert_eq!(
        value(&config, "Peer", "AllowedIPs"),
        "10.10.16.0/20, 10.200.0.0/24",
        "the lab's VPC, the API endpoint's address in it, and the tunnel"
    );

    let out = labrun.run(&["kubeconfig", lab, "--vpn"]);
    assert!(out.status.success(), "{}", text(&out));
    let path = String::from_utf8(out.stdout).unwrap();
    let vpn_conf = yaml(Path::new(path.trim()));
    let admin = yaml(&labrun.lab_dir(lab).join("files/admin.conf"));
    let cluster = &vpn_conf["clusters"][0]["cluster"];
    assert_eq!(cluster["server"], "https://10.10.31.10:6443");
    assert_eq!(
        cluster["proxy-url"],
        Value::Null,
        "no SSH tunnel inside the VPN"
    );
    assert!(admin["clusters"][0]["cluster"]["proxy-url"].is_string());
    assert_eq!(
        vpn_conf["users"], admin["users"],
        "the same admin credentials"
    );
}

/// The gateway's Ignition config, as the lab's bucket holds it (it carries
/// the gateway's host key, so it never goes into user data).
async fn gateway_config(moto: &Moto, lab: &str) -> String {
    let s3 = moto.s3().await;
    let [bucket] = &common::lab_buckets(&s3, lab).await[..] else {
        panic!("one bucket of {lab}")
    };
    let object = s3
        .get_object()
        .bucket(bucket)
        .key("gateway.ign")
        .send()
        .await
        .unwrap();
    let bytes = object.body.collect().await.unwrap().into_bytes();
    let config = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(config.contains("\"ignition\""), "{config}");
    config
}

#[tokio::test(flavor = "multi_thread")]
async fn hard_way_steps_check_each_api_server_and_kubectl_here_reaches_the_api_through_labrun_proxy()
 {
    // A lab name of this run's own: the proxy's port comes from it.
    let name = format!("kube-{}", std::process::id());
    let var = format!("name={name}");
    let lab = ["labs/kube.lua", "--var", &var];
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let rendered = render(&labrun, &lab);
    let mut nodes = Standins::start(&labrun, &name, rendered.path(), 20, &[]);
    // the members the nodes' etcd pods formed when they booted
    let members = nodes.record.path().join("etcd-members");
    std::fs::write(&members, "control-01\ncontrol-02\ncontrol-03\n").unwrap();

    let out = nodes.up(&labrun, &lab);
    assert!(out.status.success(), "{}", text(&out));
    // Nothing secret in what up printed or in any node's user data.
    let secrets = secret_values(&labrun, &name);
    assert_no_secret("labrun up's output", &text(&out), &secrets);
    assert_nodes_keep_no_secret(&moto.ec2().await, &name, &secrets).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "kubectl = labrun proxy {name} -- kubectl get nodes"
        )),
        "up says how to reach the API: {stdout}"
    );
    let calls = nodes.calls();
    for (node, ip) in NODES {
        let curl = format!(
            "{node} curl -fsS --cacert /etc/kubernetes/pki/ca.crt https://{ip}:6443/readyz"
        );
        assert!(calls.contains(&curl), "{curl} in {calls:#?}");
    }
    assert!(
        calls.contains(
            &"control-01 kubectl --kubeconfig=/etc/kubernetes/admin.conf get --raw /readyz".into()
        ),
        "{calls:#?}"
    );
    let [binding] = &nodes.copies("control-01", "kubectl-apply")[..] else {
        panic!("one kubectl apply: {calls:#?}")
    };
    let binding = yaml(binding);
    assert_eq!(binding["kind"], "ClusterRoleBinding");
    assert_eq!(
        binding["roleRef"]["name"],
        "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"
    );
    assert_eq!(binding["subjects"][0]["name"], "system:nodes");

    let mark = "kubernetes/labrun-etcd-member";
    for (node, _) in NODES {
        assert!(
            nodes.node(node).etc.join(mark).exists(),
            "{node}: etcd member"
        );
    }
    assert!(
        !calls.iter().any(|c| c.contains("etcdctl")),
        "a new cluster: {calls:#?}"
    );

    // AWS reclaims control-02 and `up` makes it again, empty: its etcd member
    // is replaced through control-01 and its etcd joins the running cluster.
    nodes.remake(&labrun, &name, "control-02");
    steps_to_do_again(&labrun, &name);
    let before = nodes.calls().len();
    let out = nodes.up(&labrun, &lab);
    assert!(out.status.success(), "{}", text(&out));
    let again = &nodes.calls()[before..];
    let etcdctl: Vec<&String> = again.iter().filter(|c| c.contains("-- etcdctl")).collect();
    assert!(
        etcdctl.iter().all(|c| c.starts_with("control-01 kubectl --kubeconfig=/etc/kubernetes/admin.conf -n kube-system exec etcd-control-01 -- etcdctl")),
        "{again:#?}"
    );
    assert!(
        etcdctl.iter().any(|c| c.contains(" member remove ")),
        "{again:#?}"
    );
    assert!(
        etcdctl
            .iter()
            .any(|c| c.ends_with(" member add control-02 --peer-urls=https://10.10.16.12:2380")),
        "{again:#?}"
    );
    let mut now: Vec<String> = std::fs::read_to_string(&members)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    now.sort();
    assert_eq!(now, ["control-01", "control-02", "control-03"]);
    let remade = nodes.node("control-02").etc.clone();
    let manifest = std::fs::read_to_string(remade.join("kubernetes/manifests/etcd.yaml")).unwrap();
    assert!(
        manifest.contains("--initial-cluster-state=existing"),
        "{manifest}"
    );
    assert!(remade.join(mark).exists());

    // The user's kubeconfigs: private, named after the lab, through the proxy.
    let files = labrun.lab_dir(&name).join("files");
    for file in ["admin.conf", "super-admin.conf"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(files.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    let admin = files.join("admin.conf");
    let view = common::openssl::kubectl_view(&admin);
    let port = labrun::ssh::socks::default_port(&name);
    assert_eq!(view["clusters"][0]["name"], name.as_str());
    assert_eq!(
        view["clusters"][0]["cluster"]["proxy-url"],
        format!("socks5://127.0.0.1:{port}")
    );
    assert_eq!(view["current-context"], name.as_str());
    assert_eq!(view["users"][0]["name"], format!("admin@{name}"));
    let merged = std::process::Command::new("kubectl")
        .args(["config", "get-contexts", "-o", "name"])
        .env(
            "KUBECONFIG",
            format!(
                "{}:{}",
                admin.display(),
                files.join("super-admin.conf").display()
            ),
        )
        .output()
        .unwrap();
    let mut contexts: Vec<String> = String::from_utf8_lossy(&merged.stdout)
        .lines()
        .map(String::from)
        .collect();
    contexts.sort();
    assert_eq!(contexts, [name.clone(), format!("super-admin@{name}")]);

    let out = labrun.run(&["kubeconfig", &name]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        admin.to_str().unwrap()
    );

    // kubectl on this machine: nothing answers without the proxy...
    let alone = std::process::Command::new("kubectl")
        .args([
            "get",
            "--raw",
            "/readyz",
            "--request-timeout=5s",
            "--kubeconfig",
        ])
        .arg(&admin)
        .output()
        .unwrap();
    assert!(!alone.status.success(), "{alone:?}");
    // A proxy already serving the lab's port is not started twice.
    let taken = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let out = labrun.run(&["proxy", &name, "--", "true"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("running already?"),
        "{}",
        text(&out)
    );
    drop(taken);
    // ...and through it, the API server behind the gateway lets the admin in.
    let out = labrun.run(&["proxy", &name, "--", "kubectl", "get", "--raw", "/readyz"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");

    let out = labrun.run(&["down", &name, "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(tagged(&moto, &name).await, Vec::<String>::new());
}

/// The value of `key` in a recorded form body.
fn form<'a>(body: &'a str, key: &str) -> Option<&'a str> {
    body.split('&')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

#[tokio::test(flavor = "multi_thread")]
async fn kubeadm_lab_with_lb_nlb_serves_the_api_from_a_network_load_balancer_that_down_removes() {
    let lab = ["labs/kube-kubeadm.lua", "--var", "lb=nlb"];
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let plan = labrun.run(&[&["plan"], &lab[..]].concat());
    assert!(plan.status.success(), "{}", text(&plan));
    let stdout = String::from_utf8_lossy(&plan.stdout);
    let line = |address: &str| {
        stdout
            .lines()
            .find(|l| l.contains(address))
            .unwrap_or_else(|| panic!("{address} in {stdout}"))
            .to_string()
    };
    assert!(line("load_balancer.api").contains("$0.0225"), "{stdout}");
    assert!(line("elastic_ip.gateway").contains("$0.0050"), "{stdout}");
    assert!(line("total").contains("$0.0511"), "{stdout}");

    let rendered = render(&labrun, &lab);
    let nodes = Standins::start(
        &labrun,
        "kube-kubeadm",
        rendered.path(),
        30,
        &["control-02", "control-03"],
    );
    moto.reset_recording();
    let out = nodes.up(&labrun, &lab);
    assert!(out.status.success(), "{}", text(&out));
    let secrets = secret_values(&labrun, "kube-kubeadm");
    assert_no_secret("labrun up's output", &text(&out), &secrets);
    assert_nodes_keep_no_secret(&moto.ec2().await, "kube-kubeadm", &secrets).await;
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("api = https://api.kubelius:6443 (network load balancer, 10.10.16.10)"),
        "{}",
        text(&out)
    );

    let elb = moto.elbv2().await;
    let lbs = elb.describe_load_balancers().send().await.unwrap();
    let [lb] = lbs.load_balancers() else {
        panic!("one load balancer: {lbs:?}")
    };
    assert_eq!(lb.scheme().map(|s| s.as_str()), Some("internal"));
    assert_eq!(lb.r#type().map(|t| t.as_str()), Some("network"));
    // moto keeps no subnet mapping address: what labrun asked for.
    let recorded = moto.recorded();
    let (_, create) = recorded
        .iter()
        .find(|(a, _)| a == "CreateLoadBalancer")
        .unwrap();
    assert_eq!(
        form(create, "SubnetMappings.member.1.PrivateIPv4Address"),
        Some("10.10.16.10")
    );
    assert_eq!(form(create, "SubnetMappings.member.2.SubnetId"), None);
    let groups = elb.describe_target_groups().send().await.unwrap();
    let [group] = groups.target_groups() else {
        panic!("one target group: {groups:?}")
    };
    assert_eq!(group.port(), Some(6443));
    assert_eq!(group.protocol().map(|p| p.as_str()), Some("TCP"));
    assert_eq!(
        group.health_check_protocol().map(|p| p.as_str()),
        Some("TCP")
    );
    let health = elb
        .describe_target_health()
        .target_group_arn(group.target_group_arn().unwrap())
        .send()
        .await
        .unwrap();
    let mut targets: Vec<String> = (health.target_health_descriptions().iter())
        .filter_map(|d| d.target())
        .map(|t| format!("{}:{}", t.id().unwrap(), t.port().unwrap_or_default()))
        .collect();
    targets.sort();
    assert_eq!(
        targets,
        ["10.10.16.11:6443", "10.10.16.12:6443", "10.10.16.13:6443"]
    );
    let listeners = elb
        .describe_listeners()
        .load_balancer_arn(lb.load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    let [listener] = listeners.listeners() else {
        panic!("one listener: {listeners:?}")
    };
    assert_eq!(listener.port(), Some(6443));
    assert_eq!(
        listener.default_actions()[0].target_group_arn(),
        group.target_group_arn()
    );
    let gateway = gateway_config(&moto, "kube-kubeadm").await;
    assert!(
        !gateway.contains("api-lb.service"),
        "no HAProxy with an NLB"
    );
    // The steps ran through the API name, which names the load balancer now.
    assert!(
        std::fs::read_to_string(rendered.path().join("control-01/config.bu"))
            .unwrap()
            .contains("10.10.16.10 api.kubelius")
    );
    assert!(
        nodes.calls().iter().any(|c| c
            .starts_with("control-01 kubectl --kubeconfig=/etc/kubernetes/admin.conf get --raw")),
        "{:#?}",
        nodes.calls()
    );

    std::fs::remove_dir_all(labrun.lab_dir("kube-kubeadm")).unwrap();
    let out = labrun.run(&["down", "kube-kubeadm", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(tagged(&moto, "kube-kubeadm").await, Vec::<String>::new());
}

#[test]
fn proxy_and_kubeconfig_of_a_lab_that_is_not_up_say_so() {
    let labrun = Labrun::offline();
    let out = labrun.run(&["proxy", "nothing-here", "--", "true"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("lab nothing-here is not up"),
        "{}",
        text(&out)
    );
    let out = labrun.run(&["kubeconfig", "nothing-here"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("lab nothing-here has no kubeconfig"),
        "{}",
        text(&out)
    );
}

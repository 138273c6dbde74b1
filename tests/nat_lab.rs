//! The NAT lab up and down against a real moto_server.

mod common;

use aws_sdk_ec2::types::Filter;
use common::{Labrun, Moto, tagged, text};

fn tag(k: &str, v: &str) -> Filter {
    Filter::builder().name(format!("tag:{k}")).values(v).build()
}

/// A moto with the NAT lab up in it, and the labrun that made it.
fn nat_up() -> (Moto, Labrun) {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let out = labrun.run(&["up", "labs/nat.lua", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    (moto, labrun)
}

#[test]
fn plan_needs_no_credentials_and_prices_every_resource() {
    let labrun = Labrun::offline();
    let out = labrun.run(&["plan", "labs/nat.lua"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Keys are generated per lab, so digests of what holds them vary.
    insta::with_settings!({filters => vec![
        (r"<\d+ bytes, sha256 [0-9a-f]{8}…>", "<[size], sha256 [digest]…>"),
        (r#"sha512 = "[0-9a-f]+…"#, r#"sha512 = "[digest]…"#),
    ]}, {
        insta::assert_snapshot!("nat_plan", stdout);
    });
    let json = labrun.run(&["plan", "labs/nat.lua", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("plan --json is JSON");
    // 14 resources, plus the private bucket and one object per node: the
    // nodes' configs carry their SSH host keys, so none stays in user data.
    assert_eq!(v["changes"].as_array().unwrap().len(), 18);
    // Three t4g.nano with 10 GB gp3 each and one Elastic IP.
    let expected = 3.0 * (0.0042 + 10.0 * 0.08 / 730.0) + 0.005;
    // Money in JSON is rounded to 4 decimals.
    assert!(
        (v["hourly"].as_f64().unwrap() - expected).abs() < 5e-5,
        "{v}"
    );
    assert_eq!(v["hourly"].to_string(), "0.0209");
    assert!((v["monthly"].as_f64().unwrap() - expected * 730.0).abs() < 5e-5);
    assert_eq!(v["hourly_before"], 0.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn up_builds_the_nat_lab_as_declared() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let out = labrun.run(&["labs/nat.lua", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let ec2 = moto.ec2().await;
    let lab = || tag("labrun:lab", "nat");

    let vpcs = ec2.describe_vpcs().filters(lab()).send().await.unwrap();
    let [vpc] = vpcs.vpcs() else {
        panic!("one VPC: {vpcs:?}")
    };
    assert_eq!(vpc.cidr_block(), Some("10.10.16.0/20"));
    let subnets = ec2.describe_subnets().filters(lab()).send().await.unwrap();
    let mut cidrs: Vec<_> = subnets
        .subnets()
        .iter()
        .map(|s| s.cidr_block().unwrap().to_string())
        .collect();
    cidrs.sort();
    assert_eq!(cidrs, ["10.10.16.0/24", "10.10.31.0/24"]);
    let subnet_id = |cidr: &str| {
        subnets
            .subnets()
            .iter()
            .find(|s| s.cidr_block() == Some(cidr))
            .unwrap()
            .subnet_id()
            .unwrap()
            .to_string()
    };

    let enis = ec2
        .describe_network_interfaces()
        .filters(tag("labrun:resource", "network_interface.gateway"))
        .send()
        .await
        .unwrap();
    let [eni] = enis.network_interfaces() else {
        panic!("one gateway ENI")
    };
    assert_eq!(eni.private_ip_address(), Some("10.10.31.10"));
    assert_eq!(
        eni.source_dest_check(),
        Some(false),
        "the NAT instance must forward"
    );
    let eni_id = eni.network_interface_id().unwrap();

    let igws = ec2
        .describe_internet_gateways()
        .filters(lab())
        .send()
        .await
        .unwrap();
    let igw_id = igws.internet_gateways()[0].internet_gateway_id().unwrap();
    let tables = ec2
        .describe_route_tables()
        .filters(lab())
        .send()
        .await
        .unwrap();
    let table_of = |subnet: &str| {
        tables
            .route_tables()
            .iter()
            .find(|t| {
                t.associations()
                    .iter()
                    .any(|a| a.subnet_id() == Some(subnet))
            })
            .unwrap_or_else(|| panic!("no table for {subnet}"))
    };
    let default_route = |t: &aws_sdk_ec2::types::RouteTable| {
        t.routes()
            .iter()
            .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
            .cloned()
            .expect("default route")
    };
    let public = default_route(table_of(&subnet_id("10.10.31.0/24")));
    assert_eq!(
        public.gateway_id(),
        Some(igw_id),
        "gateway subnet goes out through the internet gateway"
    );
    let private = default_route(table_of(&subnet_id("10.10.16.0/24")));
    assert_eq!(
        private.network_interface_id(),
        Some(eni_id),
        "private subnet goes out through the gateway's ENI"
    );

    let groups = ec2
        .describe_security_groups()
        .filters(lab())
        .send()
        .await
        .unwrap();
    let rules = |name: &str| {
        let g = groups
            .security_groups()
            .iter()
            .find(|g| g.group_name() == Some(name))
            .expect(name);
        let mut r: Vec<String> = g
            .ip_permissions()
            .iter()
            .flat_map(|p| {
                p.ip_ranges().iter().map(move |ip| {
                    format!(
                        "{} {:?} {}",
                        p.ip_protocol().unwrap_or_default(),
                        p.from_port(),
                        ip.cidr_ip().unwrap_or_default()
                    )
                })
            })
            .collect();
        r.sort();
        r
    };
    assert_eq!(
        rules("nat-instances"),
        ["tcp Some(22) 10.10.31.0/24"],
        "SSH to instances only from the gateway subnet"
    );
    assert_eq!(
        rules("nat-gateway"),
        ["-1 None 10.10.16.0/24", "tcp Some(22) 203.0.113.7/32"]
    );

    let eips = ec2
        .describe_addresses()
        .filters(lab())
        .send()
        .await
        .unwrap();
    assert_eq!(
        eips.addresses()[0].network_interface_id(),
        Some(eni_id),
        "the Elastic IP is on the gateway"
    );

    let instances = ec2
        .describe_instances()
        .filters(lab())
        .send()
        .await
        .unwrap();
    let all: Vec<_> = instances
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .collect();
    assert_eq!(all.len(), 3);
    for i in &all {
        let resource = i
            .tags()
            .iter()
            .find(|t| t.key() == Some("labrun:resource"))
            .and_then(|t| t.value())
            .unwrap();
        assert_eq!(i.instance_type().map(|t| t.as_str()), Some("t4g.nano"));
        assert_eq!(
            i.image_id(),
            Some("ami-0fc0s00000000a641"),
            "the aarch64 Fedora CoreOS image for t4g"
        );
        let data = common::node_config(&ec2, "nat", resource).await;
        let ign: serde_json::Value =
            serde_json::from_str(&data).expect("the node's config is Ignition JSON");
        assert_eq!(ign["ignition"]["version"], "3.5.0");
        let name = resource.trim_start_matches("instance.");
        let hostname = ign["storage"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == "/etc/hostname")
            .unwrap();
        assert!(
            hostname["contents"]["source"]
                .as_str()
                .unwrap()
                .contains(name),
            "{hostname}"
        );
        let text = ign.to_string();
        if name == "gateway" {
            assert!(
                text.contains("MASQUERADE") && text.contains("ip_forward"),
                "{text}"
            );
        }
        assert!(
            text.contains("/etc/ssh/ssh_host_ed25519_key"),
            "host key by Ignition: {text}"
        );
        let core = &ign["passwd"]["users"][0];
        assert_eq!(core["name"], "core");
        assert!(
            core["sshAuthorizedKeys"][0]
                .as_str()
                .unwrap()
                .starts_with("ssh-ed25519 "),
            "{core}"
        );
        assert_eq!(i.key_name(), Some("nat-lab"));
    }
    // SSH: the lab key is the EC2 key pair and core's key; host keys come by Ignition,
    // and ssh_config reaches the instances through the gateway's Elastic IP.
    let keys = ec2
        .describe_key_pairs()
        .filters(lab())
        .send()
        .await
        .unwrap();
    assert_eq!(keys.key_pairs().len(), 1);
    let public_ip = eips.addresses()[0].public_ip().unwrap();
    let config = std::fs::read_to_string(labrun.lab_dir("nat").join("ssh_config")).unwrap();
    assert!(
        config.contains(&format!("Host gateway\n    HostName {public_ip}\n")),
        "{config}"
    );
    assert!(
        config.contains("Host instance-01") && config.contains("ProxyJump gateway"),
        "{config}"
    );
    assert!(config.contains("StrictHostKeyChecking yes"), "{config}");
    let known = std::fs::read_to_string(labrun.lab_dir("nat").join("known_hosts")).unwrap();
    assert_eq!(known.lines().count(), 3, "{known}");
    assert!(
        known.starts_with(&format!("{public_ip} ssh-ed25519 ")),
        "{known}"
    );
    // Tags are set by the create calls themselves, never afterwards.
    let actions: Vec<String> = moto.recorded().into_iter().map(|(a, _)| a).collect();
    assert!(!actions.iter().any(|a| a == "CreateTags"), "{actions:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn second_up_changes_nothing_and_a_type_change_touches_one_instance() {
    let (moto, labrun) = nat_up();
    moto.reset_recording();
    let again = labrun.run(&["up", "labs/nat.lua", "--yes"]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(String::from_utf8_lossy(&again.stdout).contains("No changes"));
    assert_eq!(
        moto.mutating(),
        Vec::<String>::new(),
        "a second up must not change anything"
    );

    // The plan says old → new and what it does to the bill, and lists
    // only what changes; --json has the same with before/after.
    let var = ["--var", "instance-01_type=t4g.micro"];
    let plan = labrun.run(&["plan", "labs/nat.lua", var[0], var[1]]);
    let stdout = String::from_utf8_lossy(&plan.stdout);
    assert!(
        stdout.contains(r#"update in place: type "t4g.nano" → "t4g.micro"  (+$0.0042/h)"#),
        "{stdout}"
    );
    assert!(!stdout.contains("unchanged"), "{stdout}");
    assert!(
        stdout.contains("once applied, now $0.0209/hour"),
        "{stdout}"
    );
    let all = labrun.run(&["plan", "labs/nat.lua", var[0], var[1], "--all"]);
    assert!(String::from_utf8_lossy(&all.stdout).contains("unchanged"));
    let json = labrun.run(&["plan", "labs/nat.lua", var[0], var[1], "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let change = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "instance.instance-01")
        .unwrap();
    assert_eq!(
        change["diff"],
        serde_json::json!([{"field": "type", "before": "t4g.nano", "after": "t4g.micro"}])
    );
    assert_eq!(json["hourly_before"], 0.0209);
    assert_eq!(json["hourly"], 0.0251);

    moto.reset_recording();
    let out = labrun.run(&["up", "labs/nat.lua", "--yes", var[0], var[1], "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    // stdout is exactly one JSON document; the prose went to stderr.
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["plan"]["counts"]["update"], 1);
    assert_eq!(doc["applied"], true);
    assert_eq!(doc["hourly"], 0.0251);
    assert!(doc["outputs"]["gateway_ip"].is_string(), "{doc}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("is up in"));
    let ec2 = moto.ec2().await;
    let i = ec2
        .describe_instances()
        .filters(tag("labrun:resource", "instance.instance-01"))
        .send()
        .await
        .unwrap();
    let inst = &i.reservations()[0].instances()[0];
    assert_eq!(inst.instance_type().map(|t| t.as_str()), Some("t4g.micro"));
    let id = inst.instance_id().unwrap();
    for (action, body) in moto.recorded() {
        if !action.starts_with("Describe") {
            assert!(
                body.contains(id),
                "{action} touched something else than instance-01: {body}"
            );
        }
    }
    assert_eq!(
        moto.mutating(),
        ["StopInstances", "ModifyInstanceAttribute", "StartInstances"]
    );
}

/// The IDs of the running instances at `address`.
async fn running(moto: &Moto, address: &str) -> Vec<String> {
    let out = (moto.ec2().await)
        .describe_instances()
        .filters(tag("labrun:resource", address))
        .filters(
            Filter::builder()
                .name("instance-state-name")
                .values("running")
                .build(),
        )
        .send()
        .await
        .unwrap();
    (out.reservations().iter())
        .flat_map(|r| r.instances())
        .map(|i| i.instance_id().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_terminated_outside_labrun_is_made_again_by_the_next_up() {
    // As AWS does to a reclaimed spot instance.
    let (moto, labrun) = nat_up();
    let [reclaimed] = &running(&moto, "instance.instance-02").await[..] else {
        panic!("one instance-02")
    };
    (moto.ec2().await)
        .terminate_instances()
        .instance_ids(reclaimed)
        .send()
        .await
        .unwrap();
    moto.reset_recording();
    let out = labrun.run(&["up", "labs/nat.lua", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("instance.instance-02 is gone"),
        "{}",
        text(&out)
    );
    let [again] = &running(&moto, "instance.instance-02").await[..] else {
        panic!("instance-02 runs again: {}", text(&out))
    };
    assert_ne!(again, reclaimed);
    assert_eq!(moto.mutating(), ["RunInstances"], "nothing else is touched");
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(labrun.lab_dir("nat").join("state.json")).unwrap())
            .unwrap();
    assert_eq!(
        state["resources"]["instance.instance-02"]["id"],
        again.as_str()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn down_leaves_nothing_tagged_and_removes_the_state() {
    let (moto, labrun) = nat_up();
    assert!(labrun.lab_dir("nat").join("state.json").exists());
    let status: serde_json::Value =
        serde_json::from_slice(&labrun.run(&["status", "nat", "--json"]).stdout).unwrap();
    assert_eq!(
        status["resources"].as_array().unwrap().len(),
        18,
        "{status}"
    );
    assert!(
        (status["hourly"].as_f64().unwrap() - 0.0209).abs() < 0.0001,
        "{status}"
    );
    assert!(status["outputs"]["gateway_ip"].is_string(), "{status}");
    let ls: serde_json::Value =
        serde_json::from_slice(&labrun.run(&["ls", "--json"]).stdout).unwrap();
    assert_eq!(ls[0]["lab"], "nat");
    assert!(ls[0]["cost_so_far"].as_f64().unwrap() >= 0.0);
    let plain = labrun.run(&["status", "nat"]);
    assert!(
        String::from_utf8_lossy(&plain.stdout).contains("$0.0209/hour"),
        "{}",
        text(&plain)
    );
    // The bucket is tagged; its objects are found through it.
    assert_eq!(tagged(&moto, "nat").await.len(), 15);
    let out = labrun.run(&["down", "nat", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 resources tagged labrun:lab=nat remain")
    );
    assert_eq!(tagged(&moto, "nat").await, Vec::<String>::new());
    assert!(
        !labrun.lab_dir("nat").join("ssh_config").exists(),
        "no stale ssh_config"
    );
    assert!(
        labrun.lab_dir("nat").join("secrets.json").exists(),
        "keys are kept for the next up"
    );
    assert!(
        !labrun.lab_dir("nat").join("state.json").exists(),
        "state removed"
    );
    let ls = labrun.run(&["ls"]);
    assert!(
        String::from_utf8_lossy(&ls.stdout).contains("No labs are up"),
        "{}",
        text(&ls)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn down_without_state_finds_everything_by_tag() {
    let (moto, labrun) = nat_up();
    std::fs::remove_dir_all(labrun.lab_dir("nat")).unwrap();
    let out = labrun.run(&["down", "nat", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("18 swept by tag"),
        "{}",
        text(&out)
    );
    assert_eq!(tagged(&moto, "nat").await, Vec::<String>::new());
}

#[test]
fn up_without_credentials_fails_at_once_and_says_what_to_do() {
    let moto = Moto::start();
    let mut labrun = Labrun::new(&moto);
    labrun.endpoint = None;
    let mut cmd = labrun.command(&["up", "labs/nat.lua", "--yes"]);
    cmd.env("AWS_ENDPOINT_URL", moto.url());
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no AWS credentials"), "{err}");
    assert!(
        err.contains("aws configure") && err.contains("emulator"),
        "{err}"
    );
    assert_eq!(moto.recorded().len(), 0, "no API call was made");
}

#[test]
fn a_second_labrun_on_the_same_lab_fails_fast_naming_the_holder() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    // Hold the lab's lock from another process: a shell that keeps it with flock.
    let lock_dir = labrun.home.path().join("labrun/locks");
    std::fs::create_dir_all(&lock_dir).unwrap();
    let lock = lock_dir.join("nat.lock");
    std::fs::write(&lock, "PID 4242: labrun up labs/nat.lua\n").unwrap();
    let mut holder = std::process::Command::new("flock")
        .arg(&lock)
        .args(["sleep", "30"])
        .spawn()
        .expect("flock (util-linux) runs");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let out = labrun.run(&["up", "labs/nat.lua", "--yes"]);
    // The holder still holds the lock: labrun did not wait for it.
    let still_held = holder.try_wait().unwrap().is_none();
    holder.kill().ok();
    holder.wait().ok();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("PID 4242") && err.contains("labrun up labs/nat.lua"),
        "{err}"
    );
    assert!(still_held, "it must not wait for the lock");
    assert_eq!(moto.mutating(), Vec::<String>::new());
}

#[test]
fn two_ups_of_one_lab_at_once_the_second_fails_fast_naming_the_first() {
    let labrun = Labrun::offline();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("started");
    let script = common::script(
        dir.path(),
        "slow.lua",
        &format!(
            "labrun.lab {{ name = 'slow' }}\nlabrun.after_up('wait', function()\n  io.open('{}', 'w'):close()\n  os.execute('sleep 60')\nend)\n",
            marker.display()
        ),
    );
    let script = script.to_str().unwrap();
    let mut first = labrun.command(&["up", script, "--yes"]).spawn().unwrap();
    let start = std::time::Instant::now();
    while !marker.exists() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "the first up never reached its step"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let second = labrun.run(&["up", script, "--yes"]);
    // The first is still in its 60 s step: the second did not wait for the lock.
    let still_running = first.try_wait().unwrap().is_none();
    first.kill().ok();
    first.wait().ok();
    assert!(
        still_running,
        "the second up waited for the first to finish"
    );
    assert_eq!(second.status.code(), Some(1), "{}", text(&second));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains(&format!("PID {}", first.id())) && err.contains("up"),
        "{err}"
    );
}

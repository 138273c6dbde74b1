//! The ELBv2 kinds (load balancer, target group, listener) against a real
//! moto_server: planned with their price, created as declared, targets
//! changed in place, deleted and swept in the right order.

mod common;

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types::{TargetDescription, TargetTypeEnum};
use common::{Labrun, Moto, tagged, text};
use percent_encoding::percent_decode_str;

const LAB: &str = "tests/fixtures/labs/nlb.lua";

/// A moto with the NLB lab up in it, and the labrun that made it.
fn nlb_up(moto: &Moto) -> Labrun {
    let labrun = Labrun::new(moto);
    up_with(&labrun, &[]);
    labrun
}

/// `up` of the NLB lab with `vars` (`name=value`); its output.
fn up_with(labrun: &Labrun, vars: &[&str]) -> std::process::Output {
    let mut args = vec!["up", LAB, "--yes"];
    for v in vars {
        args.extend(["--var", v]);
    }
    let out = labrun.run(&args);
    assert!(out.status.success(), "{}", text(&out));
    out
}

/// The fields of a recorded form body, decoded.
fn form(body: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// The one recorded call of `action`, as form fields.
fn sent(moto: &Moto, action: &str) -> Vec<(String, String)> {
    let calls: Vec<_> = moto
        .recorded()
        .into_iter()
        .filter(|(a, _)| a == action)
        .collect();
    assert_eq!(calls.len(), 1, "one {action}: {calls:?}");
    form(&calls[0].1)
}

fn field<'a>(fields: &'a [(String, String)], key: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// `labrun:lab` and `labrun:resource` of an ELBv2 resource.
async fn lab_tags(elb: &Client, arn: &str) -> (String, String) {
    let out = elb.describe_tags().resource_arns(arn).send().await.unwrap();
    let tags = out.tag_descriptions()[0].tags();
    let tag = |k: &str| {
        tags.iter()
            .find(|t| t.key() == Some(k))
            .and_then(|t| t.value())
            .unwrap_or_default()
            .to_string()
    };
    (tag("labrun:lab"), tag("labrun:resource"))
}

/// The registered targets of a group, as sorted `ip:port`.
async fn targets(elb: &Client, group: &str) -> Vec<String> {
    let out = elb
        .describe_target_health()
        .target_group_arn(group)
        .send()
        .await
        .unwrap();
    let mut found: Vec<String> = out
        .target_health_descriptions()
        .iter()
        .filter_map(|d| d.target())
        .map(|t: &TargetDescription| {
            format!(
                "{}:{}",
                t.id().unwrap_or_default(),
                t.port().unwrap_or_default()
            )
        })
        .collect();
    found.sort();
    found
}

/// The lab's only target group ARN.
async fn group_arn(elb: &Client) -> String {
    let groups = elb.describe_target_groups().send().await.unwrap();
    let [g] = groups.target_groups() else {
        panic!("one target group: {groups:?}")
    };
    g.target_group_arn().unwrap().to_string()
}

/// Position of the first recorded `action` in `actions`.
fn at(actions: &[String], action: &str) -> usize {
    actions
        .iter()
        .position(|a| a == action)
        .unwrap_or_else(|| panic!("no {action} in {actions:?}"))
}

#[test]
fn plan_prices_the_load_balancer_and_nothing_for_its_group_and_listener() {
    let labrun = Labrun::offline();
    let out = labrun.run(&["plan", LAB, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let change = |address: &str| {
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["address"] == address)
            .unwrap_or_else(|| panic!("{address} in {v}"))
            .clone()
    };
    let lb = change("load_balancer.api");
    assert_eq!(lb["hourly"].as_f64(), Some(0.0225), "{lb}");
    assert!(
        lb["price_note"]
            .as_str()
            .unwrap()
            .contains("before capacity units"),
        "{lb}"
    );
    assert_eq!(change("target_group.api")["hourly"].as_f64(), Some(0.0));
    assert_eq!(change("listener.api")["hourly"].as_f64(), Some(0.0));
    assert_eq!(v["hourly"].as_f64(), Some(0.0225), "{v}");
    assert_eq!(v["counts"]["create"], 7);
}

#[tokio::test(flavor = "multi_thread")]
async fn up_builds_the_load_balancer_group_and_listener_as_declared() {
    let moto = Moto::start();
    let labrun = nlb_up(&moto);
    let elb = moto.elbv2().await;
    let ec2 = moto.ec2().await;

    let lbs = elb.describe_load_balancers().send().await.unwrap();
    let [lb] = lbs.load_balancers() else {
        panic!("one load balancer: {lbs:?}")
    };
    let lb_arn = lb.load_balancer_arn().unwrap();
    assert_eq!(lb.r#type().map(|t| t.as_str()), Some("network"));
    assert_eq!(lb.scheme().map(|s| s.as_str()), Some("internal"));
    assert_eq!(
        lb.state().and_then(|s| s.code()).map(|c| c.as_str()),
        Some("active")
    );
    let subnets = ec2.describe_subnets().send().await.unwrap();
    let subnet = |cidr: &str| {
        subnets
            .subnets()
            .iter()
            .find(|s| s.cidr_block() == Some(cidr))
            .and_then(|s| s.subnet_id())
            .unwrap()
            .to_string()
    };
    let mut lb_subnets: Vec<_> = lb
        .availability_zones()
        .iter()
        .map(|z| z.subnet_id().unwrap().to_string())
        .collect();
    lb_subnets.sort();
    let mut want = vec![subnet("10.10.16.0/24"), subnet("10.10.17.0/24")];
    want.sort();
    assert_eq!(lb_subnets, want);
    let groups = ec2.describe_security_groups().send().await.unwrap();
    let sg = groups
        .security_groups()
        .iter()
        .find(|g| g.group_name() == Some("nlb-api"))
        .and_then(|g| g.group_id())
        .unwrap();
    assert_eq!(lb.security_groups(), [sg]);
    // moto keeps no subnet mapping addresses: check what labrun sent.
    let create = sent(&moto, "CreateLoadBalancer");
    assert_eq!(
        field(&create, "SubnetMappings.member.1.SubnetId"),
        Some(subnet("10.10.16.0/24").as_str())
    );
    assert_eq!(
        field(&create, "SubnetMappings.member.1.PrivateIPv4Address"),
        Some("10.10.16.100")
    );
    assert_eq!(
        field(&create, "SubnetMappings.member.2.PrivateIPv4Address"),
        None,
        "AWS picks the second subnet's address"
    );
    assert_eq!(
        field(&create, "Tags.member.1.Key"),
        Some("labrun:lab"),
        "tagged at creation"
    );

    // The listener is created only once the load balancer is active.
    let actions: Vec<String> = moto.recorded().into_iter().map(|(a, _)| a).collect();
    let created = at(&actions, "CreateLoadBalancer");
    assert!(
        actions[created..at(&actions, "CreateListener")]
            .iter()
            .any(|a| a == "DescribeLoadBalancers"),
        "{actions:?}"
    );

    let group = group_arn(&elb).await;
    let g = &elb
        .describe_target_groups()
        .target_group_arns(&group)
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .clone();
    assert_eq!(g.protocol().map(|p| p.as_str()), Some("TCP"));
    assert_eq!(g.port(), Some(6443));
    assert_eq!(g.target_type(), Some(&TargetTypeEnum::Ip));
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    let vpc = vpcs
        .vpcs()
        .iter()
        .find(|v| v.cidr_block() == Some("10.10.16.0/20"))
        .unwrap();
    assert_eq!(g.vpc_id(), vpc.vpc_id());
    assert_eq!(g.health_check_protocol().map(|p| p.as_str()), Some("TCP"));
    assert_eq!(g.health_check_port(), Some("traffic-port"));
    assert_eq!(g.health_check_interval_seconds(), Some(10));
    assert_eq!(g.health_check_timeout_seconds(), Some(5));
    assert_eq!(g.healthy_threshold_count(), Some(2));
    assert_eq!(g.unhealthy_threshold_count(), Some(2));
    assert_eq!(
        targets(&elb, &group).await,
        ["10.10.16.11:6443", "10.10.16.12:6443", "10.10.16.13:6443"]
    );

    let listeners = elb
        .describe_listeners()
        .load_balancer_arn(lb_arn)
        .send()
        .await
        .unwrap();
    let [listener] = listeners.listeners() else {
        panic!("one listener: {listeners:?}")
    };
    assert_eq!(listener.protocol().map(|p| p.as_str()), Some("TCP"));
    assert_eq!(listener.port(), Some(6443));
    let [action] = listener.default_actions() else {
        panic!("one default action")
    };
    assert_eq!(action.r#type().map(|t| t.as_str()), Some("forward"));
    assert_eq!(action.target_group_arn(), Some(group.as_str()));

    for (arn, address) in [
        (lb_arn, "load_balancer.api"),
        (group.as_str(), "target_group.api"),
        (listener.listener_arn().unwrap(), "listener.api"),
    ] {
        assert_eq!(
            lab_tags(&elb, arn).await,
            ("nlb".to_string(), address.to_string())
        );
    }

    let status: serde_json::Value =
        serde_json::from_slice(&labrun.run(&["status", "nlb", "--json"]).stdout).unwrap();
    assert_eq!(status["outputs"]["api"], lb.dns_name().unwrap(), "{status}");
    assert!((status["hourly"].as_f64().unwrap() - 0.0225).abs() < 1e-9);
    assert_eq!(tagged(&moto, "nlb").await.len(), 7);
}

#[tokio::test(flavor = "multi_thread")]
async fn targets_health_check_and_listener_port_change_in_place() {
    let moto = Moto::start();
    let labrun = nlb_up(&moto);
    let elb = moto.elbv2().await;
    let group = group_arn(&elb).await;

    moto.reset_recording();
    up_with(&labrun, &[]);
    assert_eq!(moto.mutating(), Vec::<String>::new(), "nothing to change");

    moto.reset_recording();
    let moved = "targets=10.10.16.11,10.10.16.12,10.10.16.14";
    let out = up_with(&labrun, &[moved]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("Plan: 0 to create, 1 to update, 0 to replace, 0 to delete."),
        "{}",
        text(&out)
    );
    assert_eq!(moto.mutating(), ["DeregisterTargets", "RegisterTargets"]);
    let gone = sent(&moto, "DeregisterTargets");
    assert_eq!(field(&gone, "Targets.member.1.Id"), Some("10.10.16.13"));
    assert_eq!(field(&gone, "Targets.member.2.Id"), None);
    let added = sent(&moto, "RegisterTargets");
    assert_eq!(field(&added, "Targets.member.1.Id"), Some("10.10.16.14"));
    assert_eq!(field(&added, "Targets.member.1.Port"), Some("6443"));
    assert_eq!(group_arn(&elb).await, group, "the same group");
    assert_eq!(
        targets(&elb, &group).await,
        ["10.10.16.11:6443", "10.10.16.12:6443", "10.10.16.14:6443"]
    );

    moto.reset_recording();
    up_with(&labrun, &[moved, "interval=30"]);
    assert_eq!(moto.mutating(), ["ModifyTargetGroup"]);
    let g = elb
        .describe_target_groups()
        .target_group_arns(&group)
        .send()
        .await
        .unwrap();
    assert_eq!(
        g.target_groups()[0].health_check_interval_seconds(),
        Some(30)
    );
    assert_eq!(g.target_groups()[0].health_check_timeout_seconds(), Some(5));

    moto.reset_recording();
    up_with(&labrun, &[moved, "interval=30", "listen=443"]);
    assert_eq!(moto.mutating(), ["ModifyListener"]);
    let lbs = elb.describe_load_balancers().send().await.unwrap();
    let listeners = elb
        .describe_listeners()
        .load_balancer_arn(lbs.load_balancers()[0].load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(listeners.listeners()[0].port(), Some(443));
    assert_eq!(
        listeners.listeners()[0].default_actions()[0].target_group_arn(),
        Some(group.as_str()),
        "still forwarding to the same group"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_group_port_replaces_group_and_listener_but_not_the_load_balancer() {
    let moto = Moto::start();
    let labrun = nlb_up(&moto);
    let elb = moto.elbv2().await;
    let old = group_arn(&elb).await;
    moto.reset_recording();
    let out = up_with(&labrun, &["port=6444"]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("Plan: 0 to create, 0 to update, 2 to replace, 0 to delete."),
        "{}",
        text(&out)
    );
    let actions = moto.mutating();
    // The listener lets go of the old group before it is deleted, and
    // forwards to the new group once it exists.
    assert!(
        at(&actions, "DeleteListener") < at(&actions, "DeleteTargetGroup")
            && at(&actions, "CreateTargetGroup") < at(&actions, "CreateListener"),
        "{actions:?}"
    );
    assert!(
        !actions.iter().any(|a| a.contains("LoadBalancer")),
        "{actions:?}"
    );
    let new = group_arn(&elb).await;
    assert_ne!(new, old);
    assert_eq!(
        targets(&elb, &new).await,
        ["10.10.16.11:6444", "10.10.16.12:6444", "10.10.16.13:6444"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn down_deletes_the_listener_first_and_the_network_after_the_load_balancer() {
    let moto = Moto::start();
    let labrun = nlb_up(&moto);
    moto.reset_recording();
    let out = labrun.run(&["down", "nlb", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(tagged(&moto, "nlb").await, Vec::<String>::new());
    let recorded = moto.recorded();
    let actions: Vec<String> = recorded.iter().map(|(a, _)| a.clone()).collect();
    let listener = at(&actions, "DeleteListener");
    let lb = at(&actions, "DeleteLoadBalancer");
    assert!(listener < at(&actions, "DeleteTargetGroup"), "{actions:?}");
    assert!(listener < lb, "{actions:?}");
    // The load balancer's delete waits for its network interfaces before
    // its security group and subnets go.
    let waited = recorded.iter().skip(lb).position(|(a, body)| {
        a == "DescribeNetworkInterfaces"
            && field(&form(body), "Filter.1.Name") == Some("description")
            && field(&form(body), "Filter.1.Value.1").is_some_and(|v| v.starts_with("ELB "))
    });
    let waited = lb + waited.unwrap_or_else(|| panic!("no interface wait in {actions:?}"));
    assert!(waited < at(&actions, "DeleteSecurityGroup"), "{actions:?}");
    assert!(waited < at(&actions, "DeleteSubnet"), "{actions:?}");
    assert!(at(&actions, "DeleteTargetGroup") < at(&actions, "DeleteVpc"));
}

/// moto gives an NLB no network interfaces; AWS gives it one per subnet,
/// described `ELB net/<name>/<id>`, and removes them minutes after the
/// delete. A stand-in interface so described must hold `down` back: nothing
/// of the network is deleted until it is gone.
#[tokio::test(flavor = "multi_thread")]
async fn down_waits_for_the_interfaces_aws_keeps_after_the_delete() {
    let moto = Moto::start();
    let labrun = nlb_up(&moto);
    let elb = moto.elbv2().await;
    let ec2 = moto.ec2().await;
    let lbs = elb.describe_load_balancers().send().await.unwrap();
    let lb = &lbs.load_balancers()[0];
    let (_, path) = lb
        .load_balancer_arn()
        .unwrap()
        .split_once(":loadbalancer/")
        .unwrap();
    let description = format!("ELB {path}");
    let eni = ec2
        .create_network_interface()
        .subnet_id(lb.availability_zones()[0].subnet_id().unwrap())
        .description(&description)
        .send()
        .await
        .unwrap();
    let eni = eni
        .network_interface()
        .unwrap()
        .network_interface_id()
        .unwrap();

    moto.reset_recording();
    let mut down = labrun.command(&["down", "nlb", "--yes"]);
    let polls_after_delete = || {
        let recorded = moto.recorded();
        let Some(deleted) = recorded.iter().position(|(a, _)| a == "DeleteLoadBalancer") else {
            return 0;
        };
        recorded[deleted..]
            .iter()
            .filter(|(a, body)| {
                a == "DescribeNetworkInterfaces"
                    && field(&form(body), "Filter.1.Value.1") == Some(description.as_str())
            })
            .count()
    };
    let waiting = tokio::task::spawn_blocking(move || down.output());
    let start = std::time::Instant::now();
    while polls_after_delete() < 2 {
        assert!(
            !waiting.is_finished() && start.elapsed() < std::time::Duration::from_secs(60),
            "down did not wait for the interface: {:?}",
            moto.mutating()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let before: Vec<String> = moto.mutating();
    assert!(
        !before
            .iter()
            .any(|a| a == "DeleteSubnet" || a == "DeleteSecurityGroup" || a == "DeleteVpc"),
        "the network went while the interface stood: {before:?}"
    );
    ec2.delete_network_interface()
        .network_interface_id(eni)
        .send()
        .await
        .unwrap();
    let out = waiting.await.unwrap().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let actions = moto.mutating();
    let gone = at(&actions, "DeleteNetworkInterface");
    assert!(gone < at(&actions, "DeleteSecurityGroup"), "{actions:?}");
    assert!(gone < at(&actions, "DeleteSubnet"), "{actions:?}");
    assert_eq!(tagged(&moto, "nlb").await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn down_without_state_finds_them_by_tag_and_sweeps_in_order() {
    let moto = Moto::start();
    let labrun = nlb_up(&moto);
    std::fs::remove_dir_all(labrun.lab_dir("nlb")).unwrap();
    moto.reset_recording();
    let out = labrun.run(&["down", "nlb", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("7 swept by tag"),
        "{}",
        text(&out)
    );
    assert_eq!(tagged(&moto, "nlb").await, Vec::<String>::new());
    let actions = moto.mutating();
    assert_eq!(
        &actions[..3],
        ["DeleteListener", "DeleteTargetGroup", "DeleteLoadBalancer"],
        "{actions:?}"
    );
    assert_eq!(actions.last().map(String::as_str), Some("DeleteVpc"));
}

#[test]
fn a_sweep_deletes_the_elbv2_kinds_before_the_network() {
    let order = labrun::aws::kinds::sweep_order();
    let rank = |kind: &str| {
        order
            .iter()
            .position(|k| *k == kind)
            .unwrap_or_else(|| panic!("{kind} not in {order:?}"))
    };
    let chain = [
        "listener",
        "target_group",
        "load_balancer",
        "network_interface",
        "security_group",
        "subnet",
        "vpc",
    ];
    for pair in chain.windows(2) {
        assert!(rank(pair[0]) < rank(pair[1]), "{pair:?} in {order:?}");
    }
}

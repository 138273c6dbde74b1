//! The NAT lab through a proxy that fails 10% of API calls (503, 500,
//! throttling, connection resets, and lost answers: the call is acted on,
//! its answer never arrives): `up` succeeds the first time, nothing is made
//! twice, `down` ends within 2 minutes with exit 0 and nothing left.

mod common;

use common::{FaultProxy, Labrun, Moto, found, made_twice, make_subnet, run_within, tagged, text};
use std::collections::BTreeMap;
use std::time::Duration;

/// Share of API calls the proxy fails.
const RATE: f64 = 0.10;

/// `down` must end within this, whatever it meets.
const DOWN_DEADLINE: Duration = Duration::from_secs(120);

/// The calls that make a resource, with the kind they make.
const CREATES: &[(&str, &str)] = &[
    ("CreateVpc", "vpc"),
    ("CreateSubnet", "subnet"),
    ("CreateInternetGateway", "internet_gateway"),
    ("CreateRouteTable", "route_table"),
    ("CreateSecurityGroup", "security_group"),
    ("CreateNetworkInterface", "network_interface"),
    ("AllocateAddress", "elastic_ip"),
    ("ImportKeyPair", "key_pair"),
    ("CreateKeyPair", "key_pair"),
    ("RunInstances", "instance"),
    ("PUT bucket", "s3_bucket"),
];

/// What one lab up and down through faults met.
struct Run {
    /// What went wrong, if anything.
    problems: Vec<String>,
    /// Faults injected, by kind.
    faults: BTreeMap<String, usize>,
    /// What `up` printed.
    up: String,
}

/// One lab up and down through faults of `seed` at `rate`, of `kinds` (none: all).
async fn up_and_down_through_faults(moto: &Moto, rate: f64, seed: u64, kinds: &[&str]) -> Run {
    let proxy = FaultProxy::with_faults(moto, rate, 0, seed, kinds);
    let labrun = Labrun::at(proxy.url());
    let lab = format!("faults{seed}");
    let var = format!("name={lab}");
    let mut problems = Vec::new();

    let up = labrun.run(&["up", "labs/nat.lua", "--yes", "--var", &var]);
    if !up.status.success() {
        problems.push(format!("up failed: {}", text(&up)));
    }
    let twice = made_twice(moto, &lab).await;
    if !twice.is_empty() {
        problems.push(format!("made twice (by labrun:resource tag): {twice:?}"));
    }
    // A create AWS acted on whose resource is not the lab's one of that name
    // (an untagged or adopted-too-late copy) is a duplicate too.
    let mut acted: BTreeMap<&str, usize> = BTreeMap::new();
    for call in proxy.calls() {
        let made = call.forwarded && call.status.is_some_and(|s| (200..300).contains(&s));
        if let Some((_, kind)) = CREATES.iter().find(|(a, _)| *a == call.action)
            && made
        {
            *acted.entry(kind).or_default() += 1;
        }
    }
    let mut exist: BTreeMap<&str, usize> = BTreeMap::new();
    for f in found(moto, &lab).await {
        *exist.entry(f.kind).or_default() += 1;
    }
    for (kind, n) in &acted {
        let have = exist.get(kind).copied().unwrap_or(0);
        if *n > have {
            problems.push(format!(
                "{n} {kind} creates acted on by AWS, {have} tagged {kind} in the lab"
            ));
        }
    }
    // The lab's 18 resources: its bucket's 3 objects are found through the bucket.
    if up.status.success() && exist.values().sum::<usize>() != 15 {
        problems.push(format!("not the lab's 18 resources: {exist:?}"));
    }

    match run_within(&mut labrun.command(&["down", &lab, "--yes"]), DOWN_DEADLINE) {
        Err(stalled) => problems.push(format!("down stalled: {stalled}")),
        Ok(down) if !down.status.success() => problems.push(format!(
            "down exit {:?}: {}",
            down.status.code(),
            text(&down)
        )),
        Ok(_) => {}
    }
    let left = tagged(moto, &lab).await;
    if !left.is_empty() {
        problems.push(format!("left after down: {left:?}"));
    }
    Run {
        problems: problems
            .into_iter()
            .map(|p| format!("seed {seed}: {p}"))
            .collect(),
        faults: proxy.faults(),
        up: text(&up),
    }
}

/// Runs `seeds` and asserts every one went right, and that every kind of
/// fault was met (a run without faults proves nothing).
async fn nat_lab_through_faults(seeds: std::ops::Range<u64>) {
    let moto = Moto::start();
    let mut problems = Vec::new();
    let mut faults: BTreeMap<String, usize> = BTreeMap::new();
    for seed in seeds.clone() {
        let run = up_and_down_through_faults(&moto, RATE, seed, &[]).await;
        problems.extend(run.problems);
        for (kind, n) in run.faults {
            *faults.entry(kind).or_default() += n;
        }
    }
    eprintln!("faults injected over seeds {seeds:?}: {faults:?}");
    assert!(
        faults.get("lost").copied().unwrap_or(0) > 0,
        "no lost answer was injected: {faults:?}"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// CI variant of the 20-seed test.
#[tokio::test(flavor = "multi_thread")]
async fn nat_lab_up_and_down_through_10_percent_faults_3_seeds() {
    nat_lab_through_faults(0..3).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "slow (20 labs up and down, about a minute); the CI variant runs 3 seeds"]
async fn nat_lab_up_and_down_through_10_percent_faults_20_seeds() {
    nat_lab_through_faults(0..20).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn creates_whose_answers_are_lost_are_found_by_their_tags_not_made_again() {
    let moto = Moto::start();
    let run = up_and_down_through_faults(&moto, 0.3, 1, &["lost"]).await;
    assert!(run.problems.is_empty(), "{}", run.problems.join("\n\n"));
    assert!(run.faults.get("lost").copied().unwrap_or(0) > 0);
    assert!(
        run.up
            .contains("found what it made by its tags and kept it"),
        "a create without a ClientToken lost its answer and adopted what it made: {}",
        run.up
    );
    assert!(
        run.up.contains("retrying in"),
        "retries are said: {}",
        run.up
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_proxy_keeps_aws_client_token_idempotency_and_injects_every_fault() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto, 0.5, 0, 7);
    let direct = moto.ec2().await;
    let vpc = direct
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc
        .unwrap()
        .vpc_id
        .unwrap();
    let subnet = make_subnet(&direct, &vpc, "10.9.1.0/24", None).await;
    // A plain SDK client (no labrun) through the proxy: its own retries meet the faults.
    let conf = direct
        .config()
        .to_builder()
        .endpoint_url(proxy.url())
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(10)
                .with_max_backoff(std::time::Duration::from_millis(20)),
        )
        .build();
    let ec2 = aws_sdk_ec2::Client::from_conf(conf);
    let mut ids = Vec::new();
    for _ in 0..6 {
        let r = ec2
            .create_network_interface()
            .subnet_id(&subnet)
            .client_token("one-token")
            .send()
            .await;
        if let Ok(o) = r {
            ids.push(o.network_interface.unwrap().network_interface_id.unwrap());
        }
    }
    assert!(!ids.is_empty(), "no call got through");
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one token, one interface: {ids:?}"
    );
    let enis = direct
        .describe_network_interfaces()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("subnet-id")
                .values(&subnet)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        enis.network_interfaces().len(),
        1,
        "moto made one interface"
    );
    let other = ec2
        .create_network_interface()
        .subnet_id(&subnet)
        .description("different parameters")
        .client_token("one-token")
        .send()
        .await;
    let err = other.expect_err("same token, other parameters");
    assert_eq!(
        aws_sdk_ec2::error::ProvideErrorMetadata::code(&err),
        Some("IdempotentParameterMismatch")
    );
    for _ in 0..40 {
        let _ = ec2.describe_vpcs().send().await;
    }
    let faults = proxy.faults();
    for kind in ["503", "500", "throttle", "reset", "lost"] {
        assert!(
            faults.contains_key(kind),
            "{kind} never injected: {faults:?}"
        );
    }
    let calls = proxy.calls();
    assert!(calls.iter().any(|c| c.replayed), "no replay logged");
    assert!(
        calls
            .iter()
            .filter(|c| c.fault.as_deref() == Some("lost"))
            .all(|c| c.status.is_some()),
        "a lost answer is a call moto answered"
    );
}

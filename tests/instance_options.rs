//! Instance options against moto: image by ID, root volume size, shutdown
//! behaviour, spot, a public subnet; and what forces a replacement.

mod common;

use aws_sdk_ec2::types::{Filter, InstanceAttributeName};
use common::{Labrun, Moto, text};

#[tokio::test(flavor = "multi_thread")]
async fn instance_options_reach_ec2() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let out = labrun.run(&["up", "tests/fixtures/labs/options.lua", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let ec2 = moto.ec2().await;
    let lab = Filter::builder()
        .name("tag:labrun:lab")
        .values("options")
        .build();
    let res = ec2
        .describe_instances()
        .filters(lab.clone())
        .send()
        .await
        .unwrap();
    let i = &res.reservations()[0].instances()[0];
    let id = i.instance_id().unwrap();
    assert_eq!(i.image_id(), Some("ami-0fc0s00000000x861"));
    assert_eq!(i.private_ip_address(), Some("10.20.1.20"));
    assert!(
        i.public_ip_address().is_some(),
        "a public subnet gives a public address"
    );
    assert_eq!(i.instance_lifecycle().map(|l| l.as_str()), Some("spot"));
    let attr = ec2
        .describe_instance_attribute()
        .instance_id(id)
        .attribute(InstanceAttributeName::InstanceInitiatedShutdownBehavior)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attr.instance_initiated_shutdown_behavior()
            .and_then(|v| v.value()),
        Some("terminate")
    );
    let volumes = ec2
        .describe_volumes()
        .filters(
            Filter::builder()
                .name("attachment.instance-id")
                .values(id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(volumes.volumes()[0].size(), Some(12), "root volume size");
    assert_eq!(
        volumes.volumes()[0]
            .tags()
            .iter()
            .find(|t| t.key() == Some("labrun:lab"))
            .and_then(|t| t.value()),
        Some("options"),
        "the root volume is tagged at creation too"
    );
    let subnets = ec2
        .describe_subnets()
        .filters(lab.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(subnets.subnets()[0].map_public_ip_on_launch(), Some(true));

    // Turning spot off is not an in-place change: the plan names the field.
    let plan = labrun.run(&[
        "plan",
        "tests/fixtures/labs/options.lua",
        "--var",
        "spot=false",
    ]);
    let stdout = String::from_utf8_lossy(&plan.stdout);
    assert!(
        stdout.contains("-/+ instance.box")
            && stdout.contains("replace: spot true → false forces a new resource"),
        "{stdout}"
    );

    assert!(labrun.run(&["down", "options", "--yes"]).status.success());
    assert_eq!(common::tagged(&moto, "options").await, Vec::<String>::new());
}

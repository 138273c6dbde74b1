//! `down` meets what the lab's state does not know: copies tagged with the
//! lab inside its VPC (what a lost answer or a crash leaves) go before the
//! VPC, so nothing waits on them; a delete held by something that is not
//! the lab's says what holds it, and the exit code agrees with what is left.

mod common;

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use common::{Labrun, Moto, make_subnet, tagged, text};

/// Brings the NAT lab up as `lab` and returns its VPC's ID.
async fn up(moto: &Moto, labrun: &Labrun, lab: &str) -> String {
    let out = labrun.run(&[
        "up",
        "labs/nat.lua",
        "--yes",
        "--var",
        &format!("name={lab}"),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let vpcs = moto
        .ec2()
        .await
        .describe_vpcs()
        .filters(Filter::builder().name("tag:labrun:lab").values(lab).build())
        .send()
        .await
        .unwrap();
    vpcs.vpcs()[0].vpc_id().unwrap().to_string()
}

/// Tags naming `address` of `lab`, as labrun puts them at creation.
fn copy_of(kind: ResourceType, lab: &str, address: &str) -> TagSpecification {
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
    TagSpecification::builder()
        .resource_type(kind)
        .tags(tag("labrun:lab", lab))
        .tags(tag("labrun:resource", address))
        .build()
}

#[tokio::test(flavor = "multi_thread")]
async fn copies_in_the_vpc_the_state_does_not_know_go_before_it() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let vpc = up(&moto, &labrun, "strays").await;
    let ec2 = moto.ec2().await;
    // A second subnet and route table, as a create whose answer was lost
    // and was sent again would have left, and an interface in that subnet.
    let copy = copy_of(ResourceType::Subnet, "strays", "subnet.instances");
    let subnet = make_subnet(&ec2, &vpc, "10.10.20.0/24", Some(copy)).await;
    let table = ec2
        .create_route_table()
        .vpc_id(&vpc)
        .tag_specifications(copy_of(
            ResourceType::RouteTable,
            "strays",
            "route_table.gateway",
        ))
        .send()
        .await
        .unwrap()
        .route_table
        .unwrap()
        .route_table_id
        .unwrap();
    ec2.associate_route_table()
        .route_table_id(&table)
        .subnet_id(&subnet)
        .send()
        .await
        .unwrap();
    ec2.create_network_interface()
        .subnet_id(&subnet)
        .tag_specifications(copy_of(
            ResourceType::NetworkInterface,
            "strays",
            "network_interface.gateway",
        ))
        .send()
        .await
        .unwrap();

    let out = labrun.run(&["down", "strays", "--yes", "--wait", "60s"]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert_eq!(tagged(&moto, "strays").await, Vec::<String>::new());
    assert!(
        all.contains("3 resource(s) tagged with lab strays are not in its state"),
        "{all}"
    );
    assert!(
        all.contains(&format!("subnet.instances ({subnet}) deleted")),
        "the copy is named by its address and ID: {all}"
    );
    assert!(
        !all.contains("still in use"),
        "nothing waited on a copy deleted too late: {all}"
    );
    assert!(all.contains("3 swept by tag"), "{all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delete_held_by_what_is_not_the_labs_names_it_and_down_fails_with_the_count() {
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let vpc = up(&moto, &labrun, "held").await;
    let ec2 = moto.ec2().await;
    let foreign = make_subnet(&ec2, &vpc, "10.10.21.0/24", None).await;

    let out = labrun.run(&["down", "held", "--yes", "--wait", "3s"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains(&format!("in use by {foreign} (subnet)")),
        "the delete says what holds the VPC: {all}"
    );
    assert_eq!(tagged(&moto, "held").await, [format!("vpc {vpc}")]);
    assert!(
        all.contains("NOT fully gone: 1 resource(s) tagged labrun:lab=held remain"),
        "{all}"
    );

    ec2.delete_subnet()
        .subnet_id(&foreign)
        .send()
        .await
        .unwrap();
    let again = labrun.run(&["down", "held", "--yes"]);
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(tagged(&moto, "held").await, Vec::<String>::new());
}

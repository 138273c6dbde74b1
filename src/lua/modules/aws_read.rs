//! `live.aws`: read-only looks at a lab's resources as AWS sees them, for
//! checks (is the gateway's source/destination check really off?). It
//! connects on first use, with the SDK's own configuration, and only
//! describes.

use crate::aws::Aws;
use aws_sdk_ec2::error::DisplayErrorContext;
use mlua::{UserData, UserDataMethods};
use std::sync::Arc;
use tokio::sync::OnceCell;

/// The `live.aws` of a lab in `region`.
#[derive(Clone)]
pub struct AwsRead {
    region: String,
    ec2: Arc<OnceCell<aws_sdk_ec2::Client>>,
}

impl AwsRead {
    /// Looks in `region`; nothing connects until a method is called.
    pub fn new(region: &str) -> AwsRead {
        AwsRead {
            region: region.to_string(),
            ec2: Arc::default(),
        }
    }

    async fn ec2(&self) -> mlua::Result<&aws_sdk_ec2::Client> {
        self.ec2
            .get_or_try_init(|| async {
                let aws = Aws::connect(&self.region).await?;
                aws.ec2()
                    .ok_or_else(|| anyhow::anyhow!("not connected to AWS"))
            })
            .await
            .map_err(|e| mlua::Error::runtime(format!("{e:#}")))
    }
}

impl UserData for AwsRead {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        // `live.aws:network_interface(id)`: { id, status, private_ip,
        // subnet_id, source_dest_check } as DescribeNetworkInterfaces says.
        methods.add_async_method("network_interface", |lua, this, id: String| async move {
            let out = (this.ec2().await?.describe_network_interfaces())
                .network_interface_ids(&id)
                .send()
                .await
                .map_err(|e| {
                    mlua::Error::runtime(format!(
                        "DescribeNetworkInterfaces {id}: {}",
                        DisplayErrorContext(e)
                    ))
                })?;
            let n = (out.network_interfaces().first())
                .ok_or_else(|| mlua::Error::runtime(format!("no network interface {id}")))?;
            let t = lua.create_table()?;
            t.set("id", n.network_interface_id())?;
            t.set("status", n.status().map(|s| s.as_str()))?;
            t.set("private_ip", n.private_ip_address())?;
            t.set("subnet_id", n.subnet_id())?;
            t.set("source_dest_check", n.source_dest_check())?;
            Ok(t)
        });
    }
}

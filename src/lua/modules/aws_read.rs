//! `live.aws`: read-only looks at a lab's resources as AWS sees them, for
//! checks (is the gateway's source/destination check really off?). It
//! connects on first use, with the SDK's own configuration, and only
//! describes.

use crate::aws::Aws;
use mlua::{LuaSerdeExt, UserData, UserDataMethods};
use std::sync::Arc;
use tokio::sync::OnceCell;

/// The `live.aws` of a lab in `region`.
#[derive(Clone)]
pub struct AwsRead {
    region: String,
    aws: Arc<OnceCell<Aws>>,
}

impl AwsRead {
    /// Looks in `region`; nothing connects until a method is called.
    pub fn new(region: &str) -> AwsRead {
        AwsRead {
            region: region.to_string(),
            aws: Arc::default(),
        }
    }

    async fn aws(&self) -> mlua::Result<&Aws> {
        (self.aws.get_or_try_init(|| Aws::connect(&self.region)))
            .await
            .map_err(|e| mlua::Error::runtime(format!("{e:#}")))
    }
}

impl UserData for AwsRead {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        // `live.aws:network_interface(id)`: { id, status, private_ip,
        // subnet_id, source_dest_check } as DescribeNetworkInterfaces says.
        methods.add_async_method("network_interface", |lua, this, id: String| async move {
            let v = this.aws().await?.describe_network_interface(&id).await;
            lua.to_value(&v.map_err(mlua::Error::external)?)
        });
    }
}

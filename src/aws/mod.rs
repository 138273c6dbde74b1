//! AWS: the resource kinds on aws-sdk-ec2, aws-sdk-s3 and
//! aws-sdk-elasticloadbalancingv2, client setup from
//! the SDK's own configuration (profiles, SSO, environment,
//! `AWS_ENDPOINT_URL`), and the [`Provider`] the engine drives.

pub mod calls;
pub mod errors;
pub mod inspect;
pub mod instance_types;
pub mod kinds;
pub mod props;
pub mod tags;
pub mod ttl;
pub mod user_data;
pub mod validate;

use crate::engine::decl::{DeclError, Declaration};
use crate::engine::provider::{
    Attrs, CreateRequest, Provider, ProviderError, Tagged, UpdateRequest,
};
use crate::engine::schema::Schema;
use anyhow::Result;
use async_trait::async_trait;
use aws_credential_types::provider::ProvideCredentials;
use calls::CallCounter;
use kinds::Cx;

/// The AWS provider. Offline (no clients) it still knows schemas and checks
/// declarations, which is all `plan` needs.
#[derive(Debug, Clone)]
pub struct Aws {
    cx: Option<Cx>,
    /// Every API call made through it.
    pub calls: CallCounter,
}

/// No usable AWS credentials were found.
#[derive(Debug, thiserror::Error)]
#[error(
    "no AWS credentials found ({0}).\n\
     Configure them as for the AWS CLI: `aws configure`, `aws sso login --profile NAME` with AWS_PROFILE=NAME, \
     or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.\n\
     To try labrun without an AWS account, run it against the local emulator: see \"Try it locally\" in the README \
     (moto_server, AWS_ENDPOINT_URL=http://127.0.0.1:5000 and dummy credentials)."
)]
pub struct NoCredentials(pub String);

impl Aws {
    /// A provider that can plan but not apply.
    pub fn offline() -> Aws {
        Aws {
            cx: None,
            calls: CallCounter::default(),
        }
    }

    /// Loads the SDK configuration for `region` and checks that credentials
    /// resolve, before anything is created.
    pub async fn connect(region: &str) -> Result<Aws> {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_string()))
            .load()
            .await;
        let creds = config
            .credentials_provider()
            .ok_or_else(|| NoCredentials("no credentials provider".into()))?;
        if let Err(e) = creds.provide_credentials().await {
            return Err(NoCredentials(errors::cause(&e)).into());
        }
        let calls = CallCounter::default();
        let ec2 = aws_sdk_ec2::config::Builder::from(&config)
            .interceptor(calls.clone())
            .build();
        // Emulators serve S3 on one host: no bucket subdomains there.
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(config.endpoint_url().is_some())
            .interceptor(calls.clone())
            .build();
        let elbv2 = aws_sdk_elasticloadbalancingv2::config::Builder::from(&config)
            .interceptor(calls.clone())
            .build();
        Ok(Aws {
            cx: Some(Cx {
                ec2: aws_sdk_ec2::Client::from_conf(ec2),
                s3: aws_sdk_s3::Client::from_conf(s3),
                elbv2: aws_sdk_elasticloadbalancingv2::Client::from_conf(elbv2),
                plain_http: config
                    .endpoint_url()
                    .is_some_and(|u| u.starts_with("http://")),
            }),
            calls,
        })
    }

    fn cx(&self) -> Result<&Cx, ProviderError> {
        self.cx
            .as_ref()
            .ok_or_else(|| ProviderError::other("not connected to AWS"))
    }
}

/// The price per hour of a declared resource of kind `kind`.
pub fn price(
    kind: &str,
    props: &indexmap::IndexMap<String, crate::engine::value::Value>,
) -> crate::cost::Price {
    kinds::find(kind)
        .map(|k| k.price(props))
        .unwrap_or_default()
}

/// The region the SDK's own configuration names (AWS_REGION, the
/// profile...), else us-east-1.
pub async fn default_region() -> String {
    inspect::configured_region()
        .await
        .unwrap_or_else(|| "us-east-1".to_string())
}

fn kind(name: &str) -> Result<&'static dyn kinds::Kind, ProviderError> {
    kinds::find(name).ok_or_else(|| ProviderError::other(format!("unknown resource kind '{name}'")))
}

#[async_trait]
impl Provider for Aws {
    fn schemas(&self) -> Vec<&'static Schema> {
        kinds::KINDS.iter().map(|k| k.schema()).collect()
    }

    fn expand(&self, decl: &mut Declaration) -> Result<(), DeclError> {
        ttl::expand(decl)?;
        user_data::expand(decl)
    }

    fn validate(&self, decl: &Declaration) -> Result<(), DeclError> {
        for r in decl.resources.values() {
            if let Some(kind) = kinds::find(&r.kind) {
                kind.check(r, decl)?;
            }
        }
        Ok(())
    }

    fn sweep_order(&self) -> Vec<&'static str> {
        kinds::sweep_order()
    }

    async fn create(&self, req: CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        kind(req.kind)?.create(self.cx()?, &req).await
    }

    async fn update(&self, req: UpdateRequest<'_>) -> Result<Attrs, ProviderError> {
        kind(req.kind)?.update(self.cx()?, &req).await
    }

    async fn delete(&self, kind_name: &str, id: &str) -> Result<(), ProviderError> {
        kind(kind_name)?.delete(self.cx()?, id).await
    }

    async fn tagged(&self, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        let cx = self.cx()?;
        let lists =
            futures::future::try_join_all(kinds::KINDS.iter().map(|k| k.tagged(cx, lab))).await?;
        Ok(lists.into_iter().flatten().collect())
    }
}

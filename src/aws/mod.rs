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
pub mod retry;
pub mod tags;
pub mod ttl;
pub mod user_data;
pub mod validate;

use crate::engine::decl::{DeclError, Declaration};
use crate::engine::provider::{
    Attrs, CreateRequest, DeleteRequest, Note, Provider, ProviderError, Stage, Tagged,
    UpdateRequest,
};
use crate::engine::schema::Schema;
use crate::engine::value::Value;
use anyhow::Result;
use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::ProvideCredentials;
use calls::CallCounter;
use indexmap::IndexMap;
use kinds::Cx;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// The AWS provider. Offline (no clients) it still knows schemas and checks
/// declarations, which is all `plan` needs.
#[derive(Debug, Clone)]
pub struct Aws {
    cx: Option<Cx>,
    /// Every API call made through it.
    pub calls: CallCounter,
    /// Permits for calls in flight, as many as the bound.
    slots: Arc<Mutex<Arc<Semaphore>>>,
}

/// Calls in flight at once unless the engine says otherwise.
const CALLS_IN_FLIGHT: usize = 20;

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
            slots: Arc::new(Mutex::new(Arc::new(Semaphore::new(CALLS_IN_FLIGHT)))),
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
        // labrun retries itself (aws::retry): the SDK would repeat creates
        // whose answers were lost, and make a second resource.
        let retry = RetryConfig::disabled();
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .operation_attempt_timeout(Duration::from_secs(60))
            .build();
        let ec2 = aws_sdk_ec2::config::Builder::from(&config)
            .retry_config(retry.clone())
            .timeout_config(timeouts.clone())
            .interceptor(calls.clone())
            .build();
        // Emulators serve S3 on one host: no bucket subdomains there.
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(config.endpoint_url().is_some())
            .retry_config(retry.clone())
            .timeout_config(timeouts.clone())
            .interceptor(calls.clone())
            .build();
        let elbv2 = aws_sdk_elasticloadbalancingv2::config::Builder::from(&config)
            .retry_config(retry)
            .timeout_config(timeouts)
            .interceptor(calls.clone())
            .build();
        let slots = Arc::new(Semaphore::new(CALLS_IN_FLIGHT));
        Ok(Aws {
            cx: Some(Cx {
                ec2: aws_sdk_ec2::Client::from_conf(ec2),
                s3: aws_sdk_s3::Client::from_conf(s3),
                elbv2: aws_sdk_elasticloadbalancingv2::Client::from_conf(elbv2),
                plain_http: config
                    .endpoint_url()
                    .is_some_and(|u| u.starts_with("http://")),
                notes: None,
                slots: slots.clone(),
            }),
            calls,
            slots: Arc::new(Mutex::new(slots)),
        })
    }

    /// The clients; what their calls have to say goes to the log.
    fn clients(&self) -> Result<&Cx, ProviderError> {
        self.cx
            .as_ref()
            .ok_or_else(|| ProviderError::other("not connected to AWS"))
    }

    /// The clients, with a channel for what their calls have to say.
    fn cx(&self) -> Result<(Cx, UnboundedReceiver<String>), ProviderError> {
        let cx = self.clients()?;
        let (tx, rx) = unbounded_channel();
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Ok((
            Cx {
                notes: Some(tx),
                slots,
                ..cx.clone()
            },
            rx,
        ))
    }
}

/// Runs `work`, passing on to `note` what its calls say while it runs.
async fn relay<T>(
    work: impl Future<Output = T>,
    mut notes: UnboundedReceiver<String>,
    note: Note<'_>,
) -> T {
    tokio::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => {
                while let Ok(m) = notes.try_recv() {
                    note(&m);
                }
                return out;
            }
            Some(m) = notes.recv() => note(&m),
        }
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

    fn held_by(&self, kind: &str) -> Vec<&'static str> {
        kinds::held_by(kind)
    }

    fn bound_calls(&self, n: usize) {
        let calls = 2 * n.max(1);
        *self.slots.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(Semaphore::new(calls));
    }

    fn stages(&self, kind: &str, props: &IndexMap<String, Value>) -> Vec<Stage> {
        kinds::find(kind).map_or_else(|| vec![Stage::WHOLE], |k| k.stages(props))
    }

    async fn create(&self, req: CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        let (kind, (cx, notes)) = (kind(req.kind)?, self.cx()?);
        relay(kind.create(&cx, &req), notes, req.note).await
    }

    async fn update(&self, req: UpdateRequest<'_>) -> Result<Attrs, ProviderError> {
        let (kind, (cx, notes)) = (kind(req.kind)?, self.cx()?);
        relay(kind.update(&cx, &req), notes, req.note).await
    }

    async fn delete(&self, req: DeleteRequest<'_>) -> Result<(), ProviderError> {
        let (kind, (cx, notes)) = (kind(req.kind)?, self.cx()?);
        relay(kind.delete(&cx, &req), notes, req.note).await
    }

    async fn tagged(&self, lab: &str, note: Note<'_>) -> Result<Vec<Tagged>, ProviderError> {
        let (cx, notes) = self.cx()?;
        let all = futures::future::try_join_all(kinds::KINDS.iter().map(|k| k.tagged(&cx, lab)));
        Ok(relay(all, notes, note)
            .await?
            .into_iter()
            .flatten()
            .collect())
    }

    async fn tagged_kind(
        &self,
        lab: &str,
        kind_name: &str,
        note: Note<'_>,
    ) -> Result<Vec<Tagged>, ProviderError> {
        let (kind, (cx, notes)) = (kind(kind_name)?, self.cx()?);
        relay(kind.tagged(&cx, lab), notes, note).await
    }

    async fn holders(&self, kind_name: &str, id: &str, note: Note<'_>) -> Vec<String> {
        let Ok((kind, (cx, notes))) = kind(kind_name).and_then(|k| Ok((k, self.cx()?))) else {
            return Vec::new();
        };
        relay(kind.holders(&cx, id), notes, note)
            .await
            .unwrap_or_else(|e| vec![format!("(cannot tell: {e})")])
    }
}

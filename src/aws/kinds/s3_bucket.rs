//! `s3_bucket`: a private S3 bucket of the lab, emptied and deleted by `down`.
//!
//! Its name, `labrun-<lab>-<12 hex digits>`, is chosen before the create call
//! and journaled as its ID, so a crash at any moment leaves nothing `down`
//! cannot find; buckets so named are the lab's even if the crash came before
//! their tags.

use super::kind::{Cx, Kind, no_stage};
use crate::aws::{retry, tags};
use crate::cost::Price;
use crate::engine::provider::{
    Attrs, CreateRequest, DeleteRequest, ErrorClass, ProviderError, Stage, Tagged,
};
use crate::engine::schema::Schema;
use crate::engine::value::Value;
use async_trait::async_trait;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
};
use indexmap::IndexMap;

/// A lab bucket holds node configs with private keys: no public access
/// whatever a policy or ACL says, encrypted at rest (SSE-S3, no cost), and
/// reachable only over TLS.
async fn harden(cx: &Cx, bucket: &str) -> Result<(), ProviderError> {
    let block = cx
        .s3
        .put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        );
    let sse = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(
                    ServerSideEncryptionByDefault::builder()
                        .sse_algorithm(ServerSideEncryption::Aes256)
                        .build()
                        .map_err(|e| ProviderError::other(format!("PutBucketEncryption: {e}")))?,
                )
                .build(),
        )
        .build()
        .map_err(|e| ProviderError::other(format!("PutBucketEncryption: {e}")))?;
    let encrypt = (cx.s3.put_bucket_encryption())
        .bucket(bucket)
        .server_side_encryption_configuration(sse);
    let policy = async {
        if cx.plain_http {
            // An emulator over plain HTTP: the policy would refuse every call.
            tracing::info!("the endpoint is plain HTTP: bucket {bucket} gets no TLS-only policy");
            return Ok(());
        }
        let b = (cx.s3.put_bucket_policy())
            .bucket(bucket)
            .policy(tls_only_policy(bucket));
        retry::send(cx, "PutBucketPolicy", || b.clone().send())
            .await
            .map(drop)
    };
    futures::try_join!(
        retry::send(cx, "PutPublicAccessBlock", || block.clone().send()),
        retry::send(cx, "PutBucketEncryption", || encrypt.clone().send()),
        policy,
    )?;
    Ok(())
}

/// A policy denying every request that does not come over TLS.
pub fn tls_only_policy(bucket: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
            "Condition": { "Bool": { "aws:SecureTransport": "false" } },
        }],
    })
    .to_string()
}

/// The `s3_bucket` kind.
pub struct S3Bucket;

static SCHEMA: Schema = Schema {
    kind: "s3_bucket",
    doc: "A private S3 bucket, emptied and deleted with the lab.",
    fields: &[],
    attrs: &[],
};

/// The start of the names of `lab`'s buckets (bucket names take no `_`).
fn prefix(lab: &str) -> String {
    format!("labrun-{}-", lab.replace('_', "-"))
}

/// The name of a bucket of `lab` created with idempotency token `token`.
fn name(lab: &str, token: &str) -> String {
    let suffix: String = token
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(12)
        .collect();
    format!("{}{}", prefix(lab), suffix.to_ascii_lowercase())
}

/// Whether `bucket` is named as a bucket of `lab`.
fn is_named_for(lab: &str, bucket: &str) -> bool {
    bucket.strip_prefix(&prefix(lab)).is_some_and(|suffix| {
        suffix.len() == 12
            && suffix
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

/// The region the S3 client works in.
fn region(cx: &Cx) -> &str {
    cx.s3.config().region().map_or("us-east-1", |r| r.as_ref())
}

/// `lab`'s buckets in this region, known by their names.
pub async fn named(cx: &Cx, lab: &str) -> Result<Vec<String>, ProviderError> {
    let b = (cx.s3.list_buckets())
        .prefix(prefix(lab))
        .bucket_region(region(cx));
    let out = retry::send(cx, "ListBuckets", || b.clone().send()).await?;
    Ok(out
        .buckets()
        .iter()
        .filter(|b| b.bucket_region().is_none_or(|r| r == region(cx)))
        .filter_map(|b| b.name())
        .filter(|n| is_named_for(lab, n))
        .map(String::from)
        .collect())
}

/// `lab`'s buckets in this region, each with its `labrun:resource` tag (empty
/// when a crash came before the tags).
pub async fn of_lab(cx: &Cx, lab: &str) -> Result<Vec<(String, String)>, ProviderError> {
    let names = named(cx, lab).await?;
    let tagged = futures::future::try_join_all(names.into_iter().map(|name| async move {
        let b = cx.s3.get_bucket_tagging().bucket(&name);
        let tags = match retry::send(cx, "GetBucketTagging", || b.clone().send()).await {
            Ok(out) => out.tag_set().to_vec(),
            Err(e) if e.class == ErrorClass::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let tag = |key: &str| {
            tags.iter()
                .find(|t| t.key() == key)
                .map(|t| t.value().to_string())
        };
        Ok(tag(tags::LAB)
            .is_none_or(|l| l == lab)
            .then(|| (name.clone(), tag(tags::RESOURCE).unwrap_or_default())))
    }))
    .await?;
    Ok(tagged.into_iter().flatten().collect())
}

/// Deletes every object of `bucket`, a page at a time.
async fn empty(cx: &Cx, bucket: &str) -> Result<(), ProviderError> {
    loop {
        let list = cx.s3.list_objects_v2().bucket(bucket);
        let page = retry::send(cx, "ListObjectsV2", || list.clone().send()).await?;
        let ids = page
            .contents()
            .iter()
            .filter_map(|o| {
                ObjectIdentifier::builder()
                    .set_key(o.key().map(String::from))
                    .build()
                    .ok()
            })
            .collect::<Vec<_>>();
        if ids.is_empty() {
            return Ok(());
        }
        let delete = Delete::builder()
            .set_objects(Some(ids))
            .quiet(true)
            .build()
            .map_err(|e| ProviderError::other(format!("DeleteObjects: {e}")))?;
        let b = cx.s3.delete_objects().bucket(bucket).delete(delete);
        retry::send(cx, "DeleteObjects", || b.clone().send()).await?;
    }
}

/// Named (its ID) before it is made, usable once made and hardened; tagged after.
static STAGES: &[Stage] = &[
    Stage::first("create", &["id"]),
    Stage::after("tags", &["create"], &[]),
];

#[async_trait]
impl Kind for S3Bucket {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        14
    }

    fn price(&self, _props: &IndexMap<String, Value>) -> Price {
        Price {
            hourly: 0.0,
            note: "S3, a few KB: negligible".into(),
        }
    }

    fn stages(&self, _props: &IndexMap<String, Value>) -> Vec<Stage> {
        STAGES.to_vec()
    }

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        let bucket = name(req.lab, req.token);
        match req.stage {
            "create" => {
                let mut create = cx.s3.create_bucket().bucket(&bucket);
                if region(cx) != "us-east-1" {
                    create = create.create_bucket_configuration(
                        CreateBucketConfiguration::builder()
                            .location_constraint(BucketLocationConstraint::from(region(cx)))
                            .build(),
                    );
                }
                retry::send_once(cx, "CreateBucket", &["BucketAlreadyOwnedByYou"], || {
                    create.clone().send()
                })
                .await?;
                // Made now (its name says its lab, so down finds it even if
                // this is never recorded).
                (req.record_id)(&bucket);
                harden(cx, &bucket).await?;
            }
            "tags" => {
                let tag_set = tags::pairs(req)
                    .into_iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| ProviderError::other(format!("PutBucketTagging: {e}")))?;
                let tagging = Tagging::builder()
                    .set_tag_set(Some(tag_set))
                    .build()
                    .map_err(|e| ProviderError::other(format!("PutBucketTagging: {e}")))?;
                let b = cx.s3.put_bucket_tagging().bucket(&bucket).tagging(tagging);
                retry::send(cx, "PutBucketTagging", || b.clone().send()).await?;
            }
            _ => return Err(no_stage(req)),
        }
        Ok(Attrs::new())
    }

    async fn delete(&self, cx: &Cx, req: &DeleteRequest<'_>) -> Result<(), ProviderError> {
        // Its objects usually went first; emptied only when it is not empty.
        let b = cx.s3.delete_bucket().bucket(req.id);
        match retry::send(cx, "DeleteBucket", || b.clone().send()).await {
            Err(e) if e.class == ErrorClass::DependencyViolation => {
                empty(cx, req.id).await?;
                retry::send(cx, "DeleteBucket", || b.clone().send()).await?;
            }
            r => drop(r?),
        }
        Ok(())
    }

    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        Ok(of_lab(cx, lab)
            .await?
            .into_iter()
            .map(|(id, address)| Tagged {
                kind: SCHEMA.kind.to_string(),
                id,
                address,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_bucket_names_found_only_for_their_lab() {
        let n = name("kube_hard-way", "0F1E2D3C-4B5A-6978-8796-a5b4c3d2e1f0");
        assert_eq!(n, "labrun-kube-hard-way-0f1e2d3c4b5a");
        assert!(is_named_for("kube_hard-way", &n));
        assert!(!is_named_for("kube", &n));
        assert!(!is_named_for("kube_hard", &n));
        let longest = name(&"a".repeat(40), &uuid::Uuid::new_v4().to_string());
        assert!(longest.len() <= 63, "{longest}");
    }
}

//! `s3_object`: a file in a bucket of the lab. Its ID, `bucket/key`, is known
//! before the upload and journaled first.

use super::kind::{Cx, Kind};
use super::s3_bucket;
use crate::aws::errors::classify;
use crate::aws::props::Props;
use crate::aws::{retry, tags};
use crate::cost::Price;
use crate::engine::provider::{
    Attrs, CreateRequest, DeleteRequest, ErrorClass, ProviderError, Tagged,
};
use crate::engine::schema::{Field, Schema, Type};
use crate::engine::value::Value;
use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use indexmap::IndexMap;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use std::time::Duration;

/// The `s3_object` kind.
pub struct S3Object;

static SCHEMA: Schema = Schema {
    kind: "s3_object",
    doc: "A private object in a bucket of the lab.",
    fields: &[
        Field::required("bucket", Type::Ref("s3_bucket"), "the bucket"),
        Field::required("key", Type::Str, "the object's key, e.g. node.ign"),
        Field::required("content", Type::Str, "what the object holds"),
    ],
    attrs: &[],
};

/// `(bucket, key)` of an object ID.
fn split(id: &str) -> Result<(&str, &str), ProviderError> {
    id.split_once('/')
        .ok_or_else(|| ProviderError::other(format!("'{id}' is not an S3 object ID (bucket/key)")))
}

/// A URL that lets anyone holding it read object `id` until `expires` ends.
pub async fn presign(cx: &Cx, id: &str, expires: Duration) -> Result<String, ProviderError> {
    let (bucket, key) = split(id)?;
    let config = PresigningConfig::expires_in(expires)
        .map_err(|e| ProviderError::other(format!("presigning {id}: {e}")))?;
    let request = cx
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .presigned(config)
        .await
        .map_err(|e| classify("GetObject (presigned)", e))?;
    Ok(request.uri().to_string())
}

#[async_trait]
impl Kind for S3Object {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        12
    }

    fn holds(&self) -> &'static [&'static str] {
        &["s3_bucket"]
    }

    fn price(&self, _props: &IndexMap<String, Value>) -> Price {
        Price {
            hourly: 0.0,
            note: "S3, a few KB: negligible".into(),
        }
    }

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        let p = Props(req.props);
        let (bucket, key) = (p.req("bucket")?, p.req("key")?);
        (req.record_id)(&format!("{bucket}/{key}"));
        let tagging = tags::pairs(req)
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, NON_ALPHANUMERIC),
                    utf8_percent_encode(v, NON_ALPHANUMERIC)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        let content = p.req("content")?;
        // A fresh body per attempt: a stream is read once.
        retry::send(cx, "PutObject", || {
            (cx.s3.put_object())
                .bucket(bucket)
                .key(key)
                .body(ByteStream::from(content.as_bytes().to_vec()))
                .tagging(&tagging)
                .send()
        })
        .await?;
        Ok(Attrs::new())
    }

    async fn delete(&self, cx: &Cx, req: &DeleteRequest<'_>) -> Result<(), ProviderError> {
        let (bucket, key) = split(req.id)?;
        let b = cx.s3.delete_object().bucket(bucket).key(key);
        retry::send(cx, "DeleteObject", || b.clone().send()).await?;
        Ok(())
    }

    /// The objects of the lab's buckets (its buckets hold nothing else),
    /// by ID: looking up each one's tags would make the listing longer.
    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        let buckets = s3_bucket::named(cx, lab).await?;
        let lists = futures::future::try_join_all(buckets.iter().map(|bucket| async move {
            let list = cx.s3.list_objects_v2().bucket(bucket);
            // A bucket deleted meanwhile (a destroy runs while this looks)
            // holds nothing any more.
            let list = match retry::send(cx, "ListObjectsV2", || list.clone().send()).await {
                Ok(list) => list,
                Err(e) if e.class == ErrorClass::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            Ok::<_, ProviderError>(
                (list.contents().iter())
                    .filter_map(|o| o.key())
                    .map(|key| Tagged {
                        kind: SCHEMA.kind.to_string(),
                        id: format!("{bucket}/{key}"),
                        address: String::new(),
                    })
                    .collect(),
            )
        }))
        .await?;
        Ok(lists.into_iter().flatten().collect())
    }
}

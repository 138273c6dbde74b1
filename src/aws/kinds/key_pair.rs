//! `key_pair`: an imported SSH public key.

use super::kind::{Cx, Kind, tagged};
use crate::aws::props::Props;
use crate::aws::validate::fail;
use crate::aws::{retry, tags};
use crate::engine::decl::{DeclError, Declaration, ResourceDecl};
use crate::engine::provider::{Attrs, CreateRequest, DeleteRequest, ProviderError, Tagged};
use crate::engine::schema::{Field, Schema, Type};
use crate::engine::value::Value;
use async_trait::async_trait;
use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::{Filter, KeyPairInfo, ResourceType};
use serde_json::Value as Json;

/// The `key_pair` kind.
pub struct KeyPair;

static SCHEMA: Schema = Schema {
    kind: "key_pair",
    doc: "An EC2 key pair imported from an OpenSSH public key.",
    fields: &[Field::required(
        "public_key",
        Type::Str,
        "OpenSSH public key line, e.g. ssh-ed25519 AAAA...",
    )],
    attrs: &["key_name", "fingerprint"],
};

/// The key pairs `filters` select.
async fn described(cx: &Cx, filters: Vec<Filter>) -> Result<Vec<KeyPairInfo>, ProviderError> {
    let b = cx.ec2.describe_key_pairs().set_filters(Some(filters));
    let out = retry::send(cx, "DescribeKeyPairs", || b.clone().send()).await?;
    Ok(out.key_pairs.unwrap_or_default())
}

#[async_trait]
impl Kind for KeyPair {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn sweep_rank(&self) -> u8 {
        90
    }

    fn check(&self, r: &ResourceDecl, _decl: &Declaration) -> Result<(), DeclError> {
        match r.props.get("public_key") {
            Some(Value::Str(key)) => crate::ssh::PublicKey::from_openssh(key)
                .map(|_| ())
                .map_err(|e| fail(r, format!("public_key is not an OpenSSH public key: {e}"))),
            _ => Ok(()),
        }
    }

    async fn create(&self, cx: &Cx, req: &CreateRequest<'_>) -> Result<Attrs, ProviderError> {
        let name = format!(
            "{}-{}",
            req.lab,
            req.address.split_once('.').map_or(req.address, |(_, n)| n)
        );
        let b = (cx.ec2.import_key_pair())
            .key_name(&name)
            .public_key_material(Blob::new(Props(req.props).req("public_key")?.as_bytes()))
            .tag_specifications(tags::spec(ResourceType::KeyPair, req));
        let pair = |id: Option<String>, fingerprint: Option<String>| {
            Some((id?, fingerprint.unwrap_or_default()))
        };
        let (id, fingerprint) = retry::create(
            cx,
            "ImportKeyPair",
            || b.clone().send(),
            |out| pair(out.key_pair_id, out.key_fingerprint),
            || async {
                let found = described(cx, tags::made_by(req)).await?;
                Ok(found
                    .into_iter()
                    .find_map(|k| pair(k.key_pair_id, k.key_fingerprint)))
            },
        )
        .await?;
        (req.record_id)(&id);
        Ok(Attrs::from([
            ("key_name".into(), name.into()),
            ("fingerprint".into(), fingerprint.into()),
        ]))
    }

    async fn delete(&self, cx: &Cx, req: &DeleteRequest<'_>) -> Result<(), ProviderError> {
        // Delete by name, which every EC2 implementation takes; without a
        // recorded name, find it by ID with a filter (some ignore the
        // KeyPairIds parameter).
        let names = match req
            .attrs
            .and_then(|a| a.get("key_name"))
            .and_then(Json::as_str)
        {
            Some(name) => vec![name.to_string()],
            None => described(cx, vec![tags::filter("key-pair-id", &[req.id])])
                .await?
                .into_iter()
                .filter_map(|k| k.key_name)
                .collect(),
        };
        for name in names {
            let b = cx.ec2.delete_key_pair().key_name(name);
            retry::send(cx, "DeleteKeyPair", || b.clone().send()).await?;
        }
        Ok(())
    }

    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        Ok(described(cx, vec![tags::lab_filter(lab)])
            .await?
            .iter()
            .filter_map(|k| tagged("key_pair", k.key_pair_id(), k.tags()))
            .collect())
    }
}

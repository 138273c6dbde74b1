//! `key_pair`: an imported SSH public key.

use super::kind::{Cx, Kind, tagged};
use crate::aws::errors::{missing, sdk};
use crate::aws::props::Props;
use crate::aws::tags;
use crate::aws::validate::fail;
use crate::engine::decl::{DeclError, Declaration, ResourceDecl};
use crate::engine::provider::{Attrs, CreateRequest, ProviderError, Tagged};
use crate::engine::schema::{Field, Schema, Type};
use crate::engine::value::Value;
use async_trait::async_trait;
use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::ResourceType;

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
        let out = cx
            .ec2
            .import_key_pair()
            .key_name(&name)
            .public_key_material(Blob::new(Props(req.props).req("public_key")?.as_bytes()))
            .tag_specifications(tags::spec(ResourceType::KeyPair, req.lab, req.address))
            .send()
            .await
            .map_err(sdk("ImportKeyPair"))?;
        let id = out
            .key_pair_id()
            .ok_or_else(|| missing("ImportKeyPair", "key pair ID"))?;
        (req.record_id)(id);
        Ok(Attrs::from([
            ("key_name".into(), name.into()),
            (
                "fingerprint".into(),
                out.key_fingerprint().unwrap_or_default().into(),
            ),
        ]))
    }

    async fn delete(&self, cx: &Cx, id: &str) -> Result<(), ProviderError> {
        // Delete by name, which every EC2 implementation takes; find it by ID
        // with a filter (some ignore the KeyPairIds parameter).
        let out = cx
            .ec2
            .describe_key_pairs()
            .filters(tags::filter("key-pair-id", &[id]))
            .send()
            .await
            .map_err(sdk("DescribeKeyPairs"))?;
        for name in out.key_pairs().iter().filter_map(|k| k.key_name()) {
            cx.ec2
                .delete_key_pair()
                .key_name(name)
                .send()
                .await
                .map_err(sdk("DeleteKeyPair"))?;
        }
        Ok(())
    }

    async fn tagged(&self, cx: &Cx, lab: &str) -> Result<Vec<Tagged>, ProviderError> {
        let out = cx
            .ec2
            .describe_key_pairs()
            .filters(tags::lab_filter(lab))
            .send()
            .await
            .map_err(sdk("DescribeKeyPairs"))?;
        Ok(out
            .key_pairs()
            .iter()
            .filter_map(|k| tagged("key_pair", k.key_pair_id(), k.tags()))
            .collect())
    }
}

//! User data over EC2's 16 KB limit, or holding a private key (an SSH host
//! key, a certificate's key). Such an Ignition config goes into an S3
//! bucket of the lab (`s3_bucket.user-data`, one `s3_object` per instance,
//! declared here so they are journaled, tagged and swept like the rest), and
//! the instance gets a small Ignition stub whose `ignition.config.replace`
//! fetches it by a presigned HTTPS URL (valid 15 minutes by default) and
//! checks its sha512. No secret stays in user data: what remains there is
//! the URL, useless once expired, and the hash.

use super::kinds::kind::Cx;
use super::kinds::s3_object;
use super::props::Props;
use crate::engine::decl::{DeclError, Declaration, ResourceDecl, address};
use crate::engine::provider::ProviderError;
use crate::engine::value::{Ref, Value};
use indexmap::IndexMap;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha512};
use std::time::Duration;

/// The most user data EC2 takes, in bytes before base64.
pub const LIMIT: usize = 16 * 1024;
/// How long a presigned URL stays valid unless `user_data_expires` says
/// otherwise: long enough for a first boot. A node created later gets a URL
/// of its own at its launch.
pub const DEFAULT_EXPIRES: i64 = 900;
/// The longest a presigned URL can be valid (SigV4's limit: 7 days).
const MAX_EXPIRES: i64 = 7 * 24 * 3600;
/// The name of the lab's bucket for user data.
const BUCKET: &str = "user-data";

fn fail(r: &ResourceDecl, message: String) -> DeclError {
    DeclError {
        location: r.location.clone(),
        message: format!("{}: {message}", r.address()),
    }
}

/// Moves every instance's literal user data over [`LIMIT`] into S3: declares
/// the lab's bucket and an object per instance, and replaces the instance's
/// `user_data` by `user_data_s3` = { object, sha512, version, expires }.
pub fn expand(decl: &mut Declaration) -> Result<(), DeclError> {
    let instances: Vec<String> = decl
        .resources
        .values()
        .filter(|r| r.kind == "instance")
        .map(ResourceDecl::address)
        .collect();
    for at in instances {
        let r = decl.resources.get_mut(&at).expect("listed above");
        let expires = match r.props.shift_remove("user_data_expires") {
            Some(Value::Int(n)) if (1..=MAX_EXPIRES).contains(&n) => n,
            Some(Value::Int(n)) => {
                return Err(fail(
                    r,
                    format!("user_data_expires must be 1 to {MAX_EXPIRES} seconds, got {n}"),
                ));
            }
            _ => DEFAULT_EXPIRES,
        };
        let config = match r.props.get("user_data") {
            Some(Value::Str(s)) if s.len() > LIMIT || holds_secret(s) => s.clone(),
            _ => continue,
        };
        let version = serde_json::from_str::<Json>(&config)
            .ok()
            .and_then(|j| j.pointer("/ignition/version")?.as_str().map(String::from))
            .ok_or_else(|| {
                fail(
                    r,
                    if config.len() > LIMIT {
                        format!(
                            "user_data is {} bytes, over EC2's limit of {LIMIT}; labrun can serve it from S3 only if it is an Ignition config",
                            config.len()
                        )
                    } else {
                        "user_data holds a private key, which would stay readable for the instance's whole life; labrun moves it out of user data only for an Ignition config".into()
                    },
                )
            })?;
        let object = address("s3_object", &r.name);
        let spec = IndexMap::from([
            (
                "object".to_string(),
                Value::Ref(Ref {
                    address: object.clone(),
                    attr: "id".into(),
                }),
            ),
            (
                "sha512".into(),
                Value::Str(hex::encode(Sha512::digest(config.as_bytes()))),
            ),
            ("version".into(), Value::Str(version)),
            ("expires".into(), Value::Int(expires)),
        ]);
        r.props.shift_remove("user_data");
        r.props.insert("user_data_s3".into(), Value::Map(spec));
        let (name, location) = (r.name.clone(), r.location.clone());
        if let Some(other) = decl.resources.get(&object) {
            return Err(DeclError {
                location: other.location.clone(),
                message: format!(
                    "{object} is declared here, but labrun needs that name for {at}'s user data"
                ),
            });
        }
        let bucket = address("s3_bucket", BUCKET);
        decl.resources
            .entry(bucket.clone())
            .or_insert_with(|| ResourceDecl {
                kind: "s3_bucket".into(),
                name: BUCKET.into(),
                props: IndexMap::new(),
                depends_on: Vec::new(),
                location: location.clone(),
            });
        let props = IndexMap::from([
            (
                "bucket".to_string(),
                Value::Ref(Ref {
                    address: bucket,
                    attr: "id".into(),
                }),
            ),
            ("key".into(), Value::Str(format!("{name}.ign"))),
            ("content".into(), Value::Str(config)),
        ]);
        decl.resources.insert(
            object,
            ResourceDecl {
                kind: "s3_object".into(),
                name,
                props,
                depends_on: Vec::new(),
                location,
            },
        );
    }
    Ok(())
}

/// Whether user data carries a private key (in an Ignition config's inline
/// files or as text): such a config never stays in user data.
fn holds_secret(user_data: &str) -> bool {
    crate::secrets::looks_secret(user_data.as_bytes())
        || serde_json::from_str::<Json>(user_data).is_ok_and(|config| {
            crate::ignition::inline_files(&config)
                .iter()
                .any(|(_, bytes)| crate::secrets::looks_secret(bytes))
        })
}

/// The user data an instance declares: its literal `user_data`, or the
/// config [`expand`] moved into S3.
pub fn of<'a>(decl: &'a Declaration, r: &'a ResourceDecl) -> Option<&'a str> {
    if let Some(text) = r.props.get("user_data") {
        return text.as_str();
    }
    let Some(Value::Map(spec)) = r.props.get("user_data_s3") else {
        return None;
    };
    let Some(Value::Ref(object)) = spec.get("object") else {
        return None;
    };
    decl.resources
        .get(&object.address)?
        .props
        .get("content")?
        .as_str()
}

/// The Ignition stub for resolved `user_data_s3` properties: replace this
/// config with the object, fetched by a URL presigned now.
pub async fn stub(cx: &Cx, spec: &Json) -> Result<String, ProviderError> {
    let p = Props(spec);
    let expires = p.int("expires").unwrap_or(DEFAULT_EXPIRES).max(1) as u64;
    let url = s3_object::presign(cx, p.req("object")?, Duration::from_secs(expires)).await?;
    Ok(json!({
        "ignition": {
            "version": p.req("version")?,
            "config": {
                "replace": {
                    "source": url,
                    "verification": { "hash": format!("sha512-{}", p.req("sha512")?) },
                },
            },
        },
    })
    .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::decl::Location;

    fn instance(name: &str, user_data: &str) -> ResourceDecl {
        ResourceDecl {
            kind: "instance".into(),
            name: name.into(),
            props: IndexMap::from([("user_data".to_string(), Value::Str(user_data.into()))]),
            depends_on: Vec::new(),
            location: Location {
                file: "lab.lua".into(),
                line: 7,
            },
        }
    }

    fn decl(instances: Vec<ResourceDecl>) -> Declaration {
        Declaration {
            lab: "big".into(),
            resources: instances.into_iter().map(|r| (r.address(), r)).collect(),
            ..Default::default()
        }
    }

    fn big_config() -> String {
        let filler = "x".repeat(LIMIT);
        json!({"ignition": {"version": "3.4.0"}, "storage": {"files": [{"path": "/f", "contents": {"source": format!("data:,{filler}")}}]}}).to_string()
    }

    #[test]
    fn big_configs_move_into_one_bucket_and_small_ones_stay() {
        let big = big_config();
        let mut d = decl(vec![
            instance("a", &big),
            instance("b", &big),
            instance("small", "{}"),
        ]);
        expand(&mut d).unwrap();
        let addresses: Vec<_> = d.resources.keys().cloned().collect();
        assert_eq!(
            addresses,
            [
                "instance.a",
                "instance.b",
                "instance.small",
                "s3_bucket.user-data",
                "s3_object.a",
                "s3_object.b"
            ]
        );
        let a = &d.resources["instance.a"];
        assert!(!a.props.contains_key("user_data"));
        let Some(Value::Map(spec)) = a.props.get("user_data_s3") else {
            panic!("{a:?}")
        };
        assert_eq!(
            spec["sha512"],
            Value::Str(hex::encode(Sha512::digest(big.as_bytes())))
        );
        assert_eq!(spec["version"], Value::Str("3.4.0".into()));
        assert_eq!(spec["expires"], Value::Int(DEFAULT_EXPIRES));
        assert_eq!(a.dependencies(), ["s3_object.a"]);
        assert_eq!(
            d.resources["s3_object.a"].dependencies(),
            ["s3_bucket.user-data"]
        );
        assert_eq!(
            d.resources["s3_object.b"].props["key"],
            Value::Str("b.ign".into())
        );
        assert_eq!(of(&d, a), Some(big.as_str()));
        let small = &d.resources["instance.small"];
        assert_eq!(of(&d, small), Some("{}"));
    }

    #[test]
    fn refuses_what_it_cannot_serve() {
        let mut d = decl(vec![instance("a", &"#!/bin/sh\n".repeat(2000))]);
        let e = expand(&mut d).unwrap_err();
        assert_eq!(e.location.to_string(), "lab.lua:7");
        assert!(
            e.message.contains("only if it is an Ignition config"),
            "{e}"
        );

        let mut r = instance("a", &big_config());
        r.props.insert("user_data_expires".into(), Value::Int(7200));
        let mut d = decl(vec![r.clone()]);
        expand(&mut d).unwrap();
        let Some(Value::Map(spec)) = d.resources["instance.a"].props.get("user_data_s3") else {
            panic!()
        };
        assert_eq!(spec["expires"], Value::Int(7200));
        r.props.insert("user_data_expires".into(), Value::Int(0));
        let e = expand(&mut decl(vec![r])).unwrap_err();
        assert!(
            e.message.contains("user_data_expires must be 1 to 604800"),
            "{e}"
        );
    }
}

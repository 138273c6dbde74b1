//! What a lab must not leak: its private keys and secrets in anything
//! labrun prints or in any instance's user data, and how its instances are
//! locked down (IMDSv2 only, encrypted root volumes).

use super::Labrun;

/// Every private key and secret string a lab keeps in its secrets.json.
pub fn secret_values(labrun: &Labrun, lab: &str) -> Vec<String> {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s)
                if s.len() >= 16
                    && !s.contains("PUBLIC KEY")
                    && !s.contains("CERTIFICATE")
                    && !s.starts_with("ssh-") =>
            {
                out.push(s.clone())
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            serde_json::Value::Object(m) => m.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let text = std::fs::read(labrun.lab_dir(lab).join("secrets.json")).unwrap();
    let mut out = Vec::new();
    walk(&serde_json::from_slice(&text).unwrap(), &mut out);
    assert!(out.len() >= 3, "the lab keeps keys: {out:?}");
    out
}

/// The body of PEM/OpenSSH private keys, without their armour lines.
fn key_bodies(secrets: &[String]) -> Vec<String> {
    secrets
        .iter()
        .flat_map(|s| {
            s.lines()
                .filter(|l| l.len() > 40 && !l.starts_with("-----"))
                .map(String::from)
        })
        .collect()
}

pub fn assert_no_secret(what: &str, text: &str, secrets: &[String]) {
    for marker in ["PRIVATE KEY", "PrivateKey", "PresharedKey"] {
        assert!(!text.contains(marker), "{what} holds {marker}");
    }
    for body in key_bodies(secrets) {
        assert!(
            !text.contains(&body),
            "{what} holds a line of a private key"
        );
    }
    for s in secrets.iter().filter(|s| !s.contains('\n')) {
        assert!(!text.contains(s.as_str()), "{what} holds a secret value");
    }
}

/// Every running instance of `lab`: user data without any of `secrets`
/// (only a stub whose 15-minute URL serves the whole config), IMDSv2 only
/// with one hop, an encrypted root volume.
pub async fn assert_nodes_keep_no_secret(ec2: &aws_sdk_ec2::Client, lab: &str, secrets: &[String]) {
    let out = ec2.describe_instances().send().await.unwrap();
    let instances: Vec<_> = (out.reservations().iter().flat_map(|r| r.instances()))
        .filter(|i| i.state().and_then(|s| s.name()).map(|n| n.as_str()) == Some("running"))
        .filter(|i| {
            i.tags()
                .iter()
                .any(|t| t.key() == Some("labrun:lab") && t.value() == Some(lab))
        })
        .collect();
    assert!(!instances.is_empty());
    for i in instances {
        let address = (i.tags().iter())
            .find(|t| t.key() == Some("labrun:resource"))
            .and_then(|t| t.value())
            .unwrap()
            .to_string();
        let data = super::user_data(ec2, lab, &address).await;
        assert_no_secret(&format!("{lab} {address}'s user data"), &data, secrets);
        let stub: serde_json::Value = serde_json::from_str(&data).unwrap();
        let url = stub["ignition"]["config"]["replace"]["source"]
            .as_str()
            .unwrap();
        assert!(url.contains("X-Amz-Expires=900"), "a 15-minute URL: {url}");
        // The URL serves the whole config, which has the host key.
        let config = super::node_config(ec2, lab, &address).await;
        assert!(config.len() > data.len());
        let metadata = i.metadata_options().unwrap();
        assert_eq!(
            metadata.http_tokens().map(|t| t.as_str()),
            Some("required"),
            "{address}"
        );
        assert_eq!(metadata.http_put_response_hop_limit(), Some(1), "{address}");
        let volume = &i.block_device_mappings()[0];
        let id = volume.ebs().unwrap().volume_id().unwrap();
        let v = ec2.describe_volumes().volume_ids(id).send().await.unwrap();
        assert_eq!(
            v.volumes()[0].encrypted(),
            Some(true),
            "{address}'s root volume"
        );
    }
}

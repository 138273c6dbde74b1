//! Kubeconfig files with everything embedded, as kubeadm writes them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{Certificate, PrivateKey};

/// A kubeconfig with one cluster, one user and one context, certificates
/// and key embedded (`*-data`).
#[derive(Clone, Copy, Debug)]
pub struct Kubeconfig<'a> {
    /// Cluster name, e.g. `kubernetes`.
    pub cluster: &'a str,
    /// API server URL, e.g. `https://api.kubelius:6443`.
    pub server: &'a str,
    /// The proxy clients reach the server through, e.g. `socks5://127.0.0.1:20001`.
    pub proxy_url: Option<&'a str>,
    /// The CA certificates the client trusts the server by.
    pub ca: &'a [&'a Certificate],
    /// User name, e.g. `kubernetes-admin`.
    pub user: &'a str,
    /// Context name; kubeadm's `USER@CLUSTER` when none.
    pub context: Option<&'a str>,
    /// The client certificate.
    pub client_cert: &'a Certificate,
    /// The client certificate's key.
    pub client_key: &'a PrivateKey,
}

impl Kubeconfig<'_> {
    /// The kubeconfig as YAML.
    pub fn render(&self) -> String {
        let context = self
            .context
            .map_or_else(|| format!("{}@{}", self.user, self.cluster), str::to_string);
        let ca_pem: String = self.ca.iter().map(|c| c.to_pem()).collect();
        let proxy = self.proxy_url.map_or_else(String::new, |url| {
            let url = serde_json::to_string(url).expect("a string serializes");
            format!("    proxy-url: {url}\n")
        });
        let [cluster, user, context, server] = [self.cluster, self.user, &context, self.server]
            .map(|s| serde_json::to_string(s).expect("a string serializes"));
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: {cluster}
  cluster:
    server: {server}
{proxy}    certificate-authority-data: {ca}
contexts:
- name: {context}
  context:
    cluster: {cluster}
    user: {user}
current-context: {context}
preferences: {{}}
users:
- name: {user}
  user:
    client-certificate-data: {cert}
    client-key-data: {key}
",
            ca = BASE64.encode(ca_pem),
            cert = BASE64.encode(self.client_cert.to_pem()),
            key = BASE64.encode(self.client_key.to_pem()),
        )
    }
}

//! The user's own public IPv4 address as AWS sees it, so a lab opens SSH
//! (and its VPN port) to them alone: `ssh_from = "auto"`.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::net::Ipv4Addr;
use std::time::Duration;

/// AWS's own "what is my address" service.
pub const CHECKIP: &str = "https://checkip.amazonaws.com";

/// The service to ask: `LABRUN_CHECKIP_URL`, else [`CHECKIP`].
pub fn service() -> String {
    std::env::var("LABRUN_CHECKIP_URL").unwrap_or_else(|_| CHECKIP.to_string())
}

async fn fetch(url: &str) -> Result<String, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
        .map_err(|e| format!("no TLS roots: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let answer = tokio::time::timeout(Duration::from_secs(5), async {
        let res = client
            .get(uri)
            .await
            .map_err(|e| crate::aws::errors::cause(&e))?;
        if !res.status().is_success() {
            return Err(format!("it answered {}", res.status()));
        }
        let body = res.into_body().collect().await.map_err(|e| e.to_string())?;
        Ok(String::from_utf8_lossy(&body.to_bytes()).into_owned())
    })
    .await
    .map_err(|_| "no answer within 5 s".to_string())??;
    Ok(answer)
}

/// Asks the service for this machine's public IPv4 address. Blocks (on a
/// thread of its own, so it works inside or outside an async runtime).
pub fn lookup() -> Result<Ipv4Addr, String> {
    let url = service();
    let asked = url.clone();
    let answer = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(fetch(&asked))
    })
    .join()
    .map_err(|_| "the lookup panicked".to_string())??;
    answer
        .trim()
        .parse()
        .map_err(|_| format!("{url} answered {:?}, not an IPv4 address", answer.trim()))
}

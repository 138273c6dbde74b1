//! Resources (file contents, merged configs, CAs, key files): compression,
//! source URL, HTTP headers and verification hash.

use serde_json::Value;

use super::super::spec::IGN_3_1;
use super::{Checker, list, not_empty, text, url};

impl Checker<'_> {
    /// Ignition's `Resource.Validate` (`FileContents` in spec 3.0) and then
    /// its headers and verification.
    pub(super) fn resource(&mut self, res: &Value, at: &str) {
        if let Some(c) = text(res, "compression")
            && !matches!(c, "" | "gzip")
        {
            self.error(&format!("{at}.compression"), "invalid compression method");
        }
        if res.pointer("/verification/hash").is_some()
            && res.get("source").is_none_or(Value::is_null)
        {
            self.error(
                &format!("{at}.verification.hash"),
                "source must be specified if verification is specified",
            );
        }
        self.optional_url(res, at);
        let headers = list(res, "httpHeaders");
        if self.level >= IGN_3_1 && !headers.is_empty() {
            let scheme = match text(res, "source").filter(|s| !s.is_empty()) {
                None => Err(url::INVALID_URL.to_owned()),
                Some(s) => {
                    url::parse(s)
                        .map_err(str::to_owned)
                        .and_then(|u| match u.scheme.as_str() {
                            "http" | "https" => Ok(()),
                            _ => Err("cannot use HTTP headers with this source scheme".to_owned()),
                        })
                }
            };
            self.on_error(at, "httpHeaders", scheme);
            for (i, header) in headers.iter().enumerate() {
                let hat = format!("{at}.httpHeaders.{i}");
                if text(header, "name").is_none_or(str::is_empty) {
                    self.error(&format!("{hat}.name"), "HTTP header name can't be empty");
                }
                if text(header, "value") == Some("") {
                    self.error(&format!("{hat}.value"), "unable to parse HTTP header");
                }
            }
        }
        self.verification(res, at);
    }

    /// A set source must be a valid URL.
    pub(super) fn optional_url(&mut self, res: &Value, at: &str) {
        if let Some(source) = text(res, "source").filter(|s| !s.is_empty()) {
            let result = url::check(source, self.level);
            self.on_error(at, "source", result);
        }
    }

    /// Merged configs and CAs need a source (reported at the resource).
    pub(super) fn required_source(&mut self, res: &Value, at: &str) {
        if !not_empty(res, "source") {
            self.error(at, "source is required");
            return;
        }
        let result = url::check(text(res, "source").unwrap_or(""), self.level);
        self.on_error(at, "", result);
    }

    /// Ignition's `Verification.Validate`: a known hash function and a sum
    /// of its size.
    pub(super) fn verification(&mut self, res: &Value, at: &str) {
        let Some(hash) = res.pointer("/verification/hash").and_then(Value::as_str) else {
            return;
        };
        let result = match hash.split_once('-') {
            None => Err("malformed hash specifier"),
            Some(("sha512", sum)) => Ok((sum, 128)),
            Some(("sha256", sum)) if self.level >= IGN_3_1 => Ok((sum, 64)),
            Some(_) => Err("unrecognized hash function"),
        }
        .and_then(|(sum, size)| {
            (sum.len() == size)
                .then_some(())
                .ok_or("incorrect size for hash sum")
        });
        self.on_error(at, "verification.hash", result);
    }
}

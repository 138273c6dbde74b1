//! URLs as Ignition accepts them: Go's `net/url` parsing, the schemes of each
//! spec version, S3 version IDs and ARNs, and `data:` URLs.

use super::super::data_url;
use super::super::spec::{IGN_3_2, IGN_3_4, Level};

pub(crate) const INVALID_URL: &str = "unable to parse url";
pub(crate) const INVALID_SCHEME: &str = "invalid url scheme";

/// A URL split as Go's `url.Parse` splits it.
pub(crate) struct Url<'s> {
    /// Lower-cased; empty when the URL has none.
    pub scheme: String,
    /// What follows `scheme:` (without the query).
    pub opaque: &'s str,
    pub query: Option<&'s str>,
}

/// Parses `s` as Go's `url.Parse` does, as far as Ignition's checks need.
pub(crate) fn parse(s: &str) -> Result<Url<'_>, &'static str> {
    if has_control(s) {
        return Err(INVALID_URL);
    }
    let (without_fragment, _) = s.split_once('#').unwrap_or((s, ""));
    let mut scheme = "";
    let mut rest = without_fragment;
    for (i, c) in without_fragment.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' if i == 0 => return Err(INVALID_URL),
            ':' => {
                scheme = &without_fragment[..i];
                rest = &without_fragment[i + 1..];
                break;
            }
            _ => break,
        }
    }
    let (opaque, query) = match rest.split_once('?') {
        Some((o, q)) => (o, Some(q)),
        None => (rest, None),
    };
    let hierarchical = scheme.is_empty() || opaque.starts_with('/');
    if hierarchical && !(valid_authority(opaque) && valid_escapes(opaque)) {
        return Err(INVALID_URL);
    }
    Ok(Url {
        scheme: scheme.to_ascii_lowercase(),
        opaque,
        query,
    })
}

/// Whether `s` holds a control byte, which Go's URL parser refuses. Long
/// data URLs are common: whole chunks are looked at a time.
fn has_control(s: &str) -> bool {
    let control = |chunk: &[u8]| {
        chunk
            .iter()
            .fold(false, |c, &b| c | (b < 0x20) | (b == 0x7f))
    };
    s.as_bytes().chunks(64).any(control)
}

/// The host and port of `//user@host:port/…`, when there is one, are well formed.
fn valid_authority(rest: &str) -> bool {
    let Some(after) = rest.strip_prefix("//") else {
        return true;
    };
    let authority = after.split('/').next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let port = if let Some(bracketed) = host.strip_prefix('[') {
        match bracketed.split_once(']') {
            Some((_, tail)) => tail,
            None => return false,
        }
    } else {
        host.rfind(':').map_or("", |i| &host[i..])
    };
    match port.strip_prefix(':') {
        Some(digits) => digits.bytes().all(|b| b.is_ascii_digit()),
        None => port.is_empty(),
    }
}

/// Every `%` starts a two-digit hexadecimal escape.
fn valid_escapes(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if i + 2 >= b.len() || !(b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit()) {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// The values of `key` in a query string.
fn query_values<'q>(query: &'q str, key: &str) -> Option<Vec<&'q str>> {
    let values: Vec<&str> = query
        .split('&')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == key).then_some(v)
        })
        .collect();
    (!values.is_empty()).then_some(values)
}

fn check_version_id(url: &Url) -> Result<(), String> {
    if let Some(values) = url.query.and_then(|q| query_values(q, "versionId"))
        && values[0].is_empty()
    {
        return Err("invalid S3 object VersionId".into());
    }
    Ok(())
}

/// An S3 ARN (`arn:aws:s3:::bucket/key`), as Ignition 3.4 on accepts it.
fn check_arn(url: &Url) -> Result<(), String> {
    const INVALID: &str = "invalid S3 ARN format";
    let full = format!("arn:{}", url.opaque);
    if full.matches(':').count() < 5 {
        return Err(INVALID.into());
    }
    let sections: Vec<&str> = full.splitn(6, ':').collect();
    if sections[1].is_empty() {
        return Err("arn: missing partition".into());
    }
    if sections[2].is_empty() {
        return Err("arn: missing service".into());
    }
    if sections[5].is_empty() {
        return Err("arn: missing resource".into());
    }
    if sections[2] != "s3" {
        return Err(INVALID.into());
    }
    let parts = full.split('/').count();
    if (sections[5].starts_with("accesspoint/") && parts < 3) || parts < 2 {
        return Err(INVALID.into());
    }
    check_version_id(url)
}

/// Ignition's `validateURL` at `level`.
pub(crate) fn check(s: &str, level: Level) -> Result<(), String> {
    if s.len() > 5 && s.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("data:")) {
        // All `parse` could find wrong in a data URL is a control byte.
        if has_control(s) {
            return Err(INVALID_URL.into());
        }
        return data_url::decode(s).map(drop);
    }
    let url = parse(s)?;
    match url.scheme.as_str() {
        "http" | "https" | "tftp" => Ok(()),
        "gs" if level >= IGN_3_2 => Ok(()),
        "s3" => check_version_id(&url),
        "arn" if level >= IGN_3_4 => check_arn(&url),
        "data" => data_url::decode(s).map(drop),
        _ => Err(INVALID_SCHEME.into()),
    }
}

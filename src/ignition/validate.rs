//! Ignition 3.3–3.5 semantic checks on a structurally valid config, with
//! Ignition's messages: paths, modes, duplicates, hashes, URLs, units, disks.

use std::collections::HashSet;

use serde_json::Value;

use super::data_url;
use super::error::Report;

const DUPLICATE: &str = "duplicate entry defined";
const NO_VALUES: &[Value] = &[];

fn list<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(NO_VALUES, Vec::as_slice)
}

fn text<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

fn is_true(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool) == Some(true)
}

/// Runs every check on `config`, an Ignition config that passed the schema.
pub(crate) fn check(config: &Value, r: &mut Report) {
    let ign = config.get("ignition").unwrap_or(&Value::Null);
    if let Some(cfg) = ign.get("config") {
        for (i, res) in list(cfg, "merge").iter().enumerate() {
            required_resource(res, &format!("$.ignition.config.merge.{i}"), r);
        }
        duplicates(list(cfg, "merge"), "source", "$.ignition.config.merge", r);
        if let Some(res) = cfg.get("replace") {
            resource(res, "$.ignition.config.replace", r);
        }
    }
    let cas = ign.pointer("/security/tls/certificateAuthorities");
    for (i, res) in cas
        .and_then(Value::as_array)
        .map_or(NO_VALUES, Vec::as_slice)
        .iter()
        .enumerate()
    {
        required_resource(
            res,
            &format!("$.ignition.security.tls.certificateAuthorities.{i}"),
            r,
        );
    }
    if let Some(proxy) = ign.get("proxy") {
        for key in ["httpProxy", "httpsProxy"] {
            if let Some(url) = text(proxy, key) {
                if !matches!(scheme(url), Some("http" | "https")) {
                    r.error(
                        &format!("$.ignition.proxy.{key}"),
                        None,
                        "proxies must be http(s)",
                    );
                } else if key == "httpsProxy" && scheme(url) == Some("http") {
                    r.warn(
                        &format!("$.ignition.proxy.{key}"),
                        None,
                        "insecure plaintext HTTP proxy specified for HTTPS resources",
                    );
                }
            }
        }
    }
    let passwd = config.get("passwd").unwrap_or(&Value::Null);
    duplicates(list(passwd, "users"), "name", "$.passwd.users", r);
    duplicates(list(passwd, "groups"), "name", "$.passwd.groups", r);
    if let Some(storage) = config.get("storage") {
        storage_nodes(storage, r);
        storage_devices(storage, r);
    }
    if let Some(systemd) = config.get("systemd") {
        units(list(systemd, "units"), r);
    }
}

/// Files, directories and links: paths, owners, modes, contents, and one
/// namespace of paths shared by the three lists.
fn storage_nodes(storage: &Value, r: &mut Report) {
    let links: Vec<&str> = list(storage, "links")
        .iter()
        .filter_map(|l| text(l, "path"))
        .collect();
    let mut seen = HashSet::new();
    for kind in ["directories", "files", "links"] {
        for (i, node) in list(storage, kind).iter().enumerate() {
            let at = format!("$.storage.{kind}.{i}");
            let path = text(node, "path").unwrap_or("");
            if let Err(e) = check_path(path) {
                r.error(&format!("{at}.path"), None, e);
            }
            if !path.is_empty() && !seen.insert(path) {
                r.error(&at, None, DUPLICATE);
            }
            if links.iter().any(|l| path.starts_with(&format!("{l}/"))) {
                let what = match kind {
                    "directories" => "directory",
                    "files" => "file",
                    _ => "link",
                };
                r.error(&at, None, format!("{what} path includes link in config"));
            }
            for owner in ["user", "group"] {
                if let Some(o) = node.get(owner)
                    && o.get("id").is_some()
                    && text(o, "name").is_some_and(|n| !n.is_empty())
                {
                    r.error(
                        &format!("{at}.{owner}"),
                        None,
                        "cannot set both id and name",
                    );
                }
            }
            if let Some(mode) = node.get("mode").and_then(Value::as_i64) {
                if !(0..=0o7777).contains(&mode) {
                    r.error(&format!("{at}.mode"), None, "illegal file mode");
                }
                if mode & 0o7000 != 0 {
                    r.warn(
                        &format!("{at}.mode"),
                        None,
                        "setuid/setgid/sticky bits are not supported or functional in spec versions older than 3.6.0",
                    );
                }
            }
            match kind {
                "files" => file(node, &at, r),
                "links" => link(node, &at, storage, r),
                _ => {}
            }
        }
    }
}

fn file(node: &Value, at: &str, r: &mut Report) {
    let contents = node.get("contents");
    if is_true(node, "overwrite") && contents.and_then(|c| text(c, "source")).is_none() {
        r.error(
            &format!("{at}.overwrite"),
            None,
            "overwrite must be false if source is unspecified",
        );
    }
    if let Some(c) = contents {
        resource(c, &format!("{at}.contents"), r);
    }
    for (j, res) in list(node, "append").iter().enumerate() {
        resource(res, &format!("{at}.append.{j}"), r);
    }
}

fn link(node: &Value, at: &str, storage: &Value, r: &mut Report) {
    let Some(target) = text(node, "target").filter(|t| !t.is_empty()) else {
        r.error(&format!("{at}.target"), None, "link target is required");
        return;
    };
    if is_true(node, "hard") {
        let path = text(node, "path").unwrap_or("");
        let resolved = if target.starts_with('/') {
            clean(target)
        } else {
            clean(&format!("{path}/{target}"))
        };
        if list(storage, "directories")
            .iter()
            .any(|d| text(d, "path") == Some(resolved.as_str()))
        {
            r.error(at, None, "hard link target is a directory");
        }
        for owner in ["user", "group"] {
            if node.get(owner).is_some() {
                r.warn(
                    &format!("{at}.{owner}"),
                    None,
                    "user/group ignored for hard link",
                );
            }
        }
    }
}

/// Disks, partitions, filesystems, RAID and LUKS devices.
fn storage_devices(storage: &Value, r: &mut Report) {
    duplicates(list(storage, "disks"), "device", "$.storage.disks", r);
    for (i, disk) in list(storage, "disks").iter().enumerate() {
        let at = format!("$.storage.disks.{i}");
        match text(disk, "device").filter(|d| !d.is_empty()) {
            None => r.error(&format!("{at}.device"), None, "disk device is required"),
            Some(d) => {
                if let Err(e) = check_path(d) {
                    r.error(&format!("{at}.device"), None, e);
                }
            }
        }
        let mut numbers = HashSet::new();
        let mut labels = HashSet::new();
        for (j, part) in list(disk, "partitions").iter().enumerate() {
            let pat = format!("{at}.partitions.{j}");
            let number = part.get("number").and_then(Value::as_i64).unwrap_or(0);
            let label = text(part, "label");
            if number == 0 && label.is_none() {
                r.error(
                    &pat,
                    None,
                    "a partition number >= 1 or a label must be specified",
                );
            }
            if number != 0 && !numbers.insert(number) {
                r.error(&pat, None, "partition numbers collide");
            }
            if let Some(l) = label {
                if !labels.insert(l) {
                    r.error(&pat, None, "cannot use the same partition label twice");
                }
                if l.len() > 36 {
                    r.error(
                        &format!("{pat}.label"),
                        None,
                        "partition labels may not exceed 36 characters",
                    );
                }
                if l.contains(':') {
                    r.error(
                        &format!("{pat}.label"),
                        None,
                        "partition label will be truncated to text before the colon",
                    );
                }
            }
            for key in ["guid", "typeGuid"] {
                if text(part, key).is_some_and(|g| !is_guid(g)) {
                    r.error(
                        &format!("{pat}.{key}"),
                        None,
                        "doesn't match the form \"01234567-89AB-CDEF-EDCB-A98765432101\"",
                    );
                }
            }
        }
    }
    duplicates(
        list(storage, "filesystems"),
        "device",
        "$.storage.filesystems",
        r,
    );
    for (i, fs) in list(storage, "filesystems").iter().enumerate() {
        filesystem(fs, &format!("$.storage.filesystems.{i}"), r);
    }
    duplicates(list(storage, "raid"), "name", "$.storage.raid", r);
    for (i, raid) in list(storage, "raid").iter().enumerate() {
        let at = format!("$.storage.raid.{i}");
        match text(raid, "level").unwrap_or("") {
            "" => r.error(&format!("{at}.level"), None, "raid level is required"),
            "linear" | "raid0" | "0" | "stripe"
                if raid.get("spares").and_then(Value::as_i64).unwrap_or(0) != 0 =>
            {
                r.error(
                    &format!("{at}.level"),
                    None,
                    "spares unsupported for linear and raid0 arrays",
                )
            }
            "linear" | "raid0" | "0" | "stripe" | "raid1" | "1" | "mirror" | "raid4" | "4"
            | "raid5" | "5" | "raid6" | "6" | "raid10" | "10" => {}
            _ => r.error(&format!("{at}.level"), None, "unrecognized raid level"),
        }
        if list(raid, "devices").is_empty() {
            r.error(&format!("{at}.devices"), None, "raid devices required");
        }
    }
    duplicates(list(storage, "luks"), "name", "$.storage.luks", r);
    for (i, luks) in list(storage, "luks").iter().enumerate() {
        let at = format!("$.storage.luks.{i}");
        if text(luks, "name").is_some_and(|n| n.contains('/')) {
            r.error(
                &format!("{at}.name"),
                None,
                "device names cannot contain slashes",
            );
        }
        match text(luks, "device").filter(|d| !d.is_empty()) {
            None => r.error(&format!("{at}.device"), None, "disk device is required"),
            Some(d) => {
                if let Err(e) = check_path(d) {
                    r.error(&format!("{at}.device"), None, e);
                }
            }
        }
        if let Some(key) = luks.get("keyFile") {
            resource(key, &format!("{at}.keyFile"), r);
        }
    }
}

fn filesystem(fs: &Value, at: &str, r: &mut Report) {
    if let Some(p) = text(fs, "path").filter(|p| !p.is_empty())
        && let Err(e) = check_path(p)
    {
        r.error(&format!("{at}.path"), None, e);
    }
    if let Err(e) = check_path(text(fs, "device").unwrap_or("")) {
        r.error(&format!("{at}.device"), None, e);
    }
    let format = text(fs, "format").unwrap_or("");
    let label = text(fs, "label").unwrap_or("");
    if format.is_empty() {
        let others = ["path", "label", "uuid"]
            .iter()
            .any(|k| text(fs, k).is_some_and(|s| !s.is_empty()))
            || is_true(fs, "wipeFilesystem")
            || !list(fs, "mountOptions").is_empty()
            || !list(fs, "options").is_empty();
        if others {
            r.error(
                &format!("{at}.format"),
                None,
                "format cannot be empty when path, label, uuid, wipeFilesystem, options, or mountOptions is specified",
            );
        }
        if !label.is_empty() {
            r.error(
                &format!("{at}.label"),
                None,
                "filesystem must specify format if label is specified",
            );
        }
        return;
    }
    let max_label = match format {
        "ext4" => 16,
        "btrfs" => 256,
        "xfs" => 12,
        "swap" => 15,
        "vfat" => 11,
        "none" => usize::MAX,
        _ => {
            r.error(&format!("{at}.format"), None, "invalid filesystem format");
            return;
        }
    };
    if label.len() > max_label {
        r.error(
            &format!("{at}.label"),
            None,
            format!("filesystem labels cannot exceed {max_label} characters for {format}"),
        );
    }
}

fn units(units: &[Value], r: &mut Report) {
    duplicates(units, "name", "$.systemd.units", r);
    for (i, unit) in units.iter().enumerate() {
        let at = format!("$.systemd.units.{i}");
        let name = text(unit, "name").unwrap_or("");
        const SUFFIXES: [&str; 12] = [
            ".service",
            ".socket",
            ".device",
            ".mount",
            ".automount",
            ".swap",
            ".target",
            ".path",
            ".timer",
            ".snapshot",
            ".slice",
            ".scope",
        ];
        if !SUFFIXES.iter().any(|s| extension(name) == *s) {
            r.error(
                &format!("{at}.name"),
                None,
                "invalid systemd unit extension",
            );
        }
        if let Some(contents) = text(unit, "contents") {
            match unit_sections(contents) {
                Err(e) => r.error(&format!("{at}.contents"), None, e),
                Ok(sections) => {
                    if is_true(unit, "enabled")
                        && !contents.is_empty()
                        && !sections.contains(&"Install")
                    {
                        r.warn(
                            &format!("{at}.contents"),
                            None,
                            format!("unit {name:?} is enabled, but has no install section so enable does nothing"),
                        );
                    }
                }
            }
        }
        let dropins = list(unit, "dropins");
        duplicates(dropins, "name", &format!("{at}.dropins"), r);
        for (j, dropin) in dropins.iter().enumerate() {
            let dat = format!("{at}.dropins.{j}");
            if let Some(Err(e)) = text(dropin, "contents").map(unit_sections) {
                r.error(&format!("{dat}.contents"), None, e);
            }
            if extension(text(dropin, "name").unwrap_or("")) != ".conf" {
                r.error(
                    &format!("{dat}.name"),
                    None,
                    "invalid systemd drop-in extension",
                );
            }
        }
    }
}

/// Go's `path.Ext`: the suffix from the last dot of the last element.
fn extension(name: &str) -> &str {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.rfind('.').map_or("", |i| &base[i..])
}

/// The section names of a unit file, or why it cannot be parsed.
fn unit_sections(contents: &str) -> Result<Vec<&str>, String> {
    let mut sections = Vec::new();
    let mut continued = false;
    for (n, raw) in contents.lines().enumerate() {
        let line = raw.trim();
        let was_continued = continued;
        continued = line.ends_with('\\');
        if was_continued || line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(name) = rest.strip_suffix(']') else {
                return Err(format!(
                    "unit contents line {}: unable to find end of section",
                    n + 1
                ));
            };
            sections.push(name);
        } else if sections.is_empty() {
            return Err(format!(
                "unit contents line {}: found property before section",
                n + 1
            ));
        } else if !line.contains('=') {
            return Err(format!("unit contents line {}: expected key=value", n + 1));
        }
    }
    Ok(sections)
}

/// Reports every entry whose `key` repeats an earlier entry's.
fn duplicates(items: &[Value], key: &str, at: &str, r: &mut Report) {
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(k) = text(item, key).filter(|k| !k.is_empty())
            && !seen.insert(k)
        {
            r.error(&format!("{at}.{i}"), None, DUPLICATE);
        }
    }
}

fn required_resource(res: &Value, at: &str, r: &mut Report) {
    if text(res, "source").is_none_or(str::is_empty) {
        r.error(&format!("{at}.source"), None, "source is required");
    }
    resource(res, at, r);
}

fn resource(res: &Value, at: &str, r: &mut Report) {
    if let Some(c) = text(res, "compression")
        && !matches!(c, "" | "gzip")
    {
        r.error(
            &format!("{at}.compression"),
            None,
            "invalid compression method",
        );
    }
    let source = text(res, "source").filter(|s| !s.is_empty());
    if let Some(hash) = res.pointer("/verification/hash").and_then(Value::as_str) {
        let hat = format!("{at}.verification.hash");
        if source.is_none() {
            r.error(
                &hat,
                None,
                "source must be specified if verification is specified",
            );
        }
        match hash.split_once('-') {
            None => r.error(&hat, None, "malformed hash specifier"),
            Some((function, sum)) => match function {
                "sha512" | "sha256" => {
                    let size = if function == "sha512" { 128 } else { 64 };
                    if sum.len() != size {
                        r.error(&hat, None, "incorrect size for hash sum");
                    }
                }
                _ => r.error(&hat, None, "unrecognized hash function"),
            },
        }
    }
    if let Some(url) = source
        && let Err(e) = check_url(url)
    {
        r.error(&format!("{at}.source"), None, e);
    }
    let headers = list(res, "httpHeaders");
    if !headers.is_empty() && !matches!(source.and_then(scheme), Some("http" | "https")) {
        r.error(
            &format!("{at}.httpHeaders"),
            None,
            "cannot use HTTP headers with this source scheme",
        );
    }
    duplicates(headers, "name", &format!("{at}.httpHeaders"), r);
    for (i, h) in headers.iter().enumerate() {
        if text(h, "name").is_none_or(str::is_empty) {
            r.error(
                &format!("{at}.httpHeaders.{i}.name"),
                None,
                "HTTP header name can't be empty",
            );
        }
        if text(h, "value") == Some("") {
            r.error(
                &format!("{at}.httpHeaders.{i}.value"),
                None,
                "unable to parse HTTP header",
            );
        }
    }
}

/// The scheme of a URL (`https` in `https://…`), if it has one.
fn scheme(url: &str) -> Option<&str> {
    let (s, _) = url.split_once(':')?;
    let mut chars = s.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(s)
}

fn check_url(url: &str) -> Result<(), String> {
    match scheme(url).map(str::to_ascii_lowercase).as_deref() {
        Some("http" | "https" | "tftp" | "gs" | "s3" | "arn") => Ok(()),
        Some("data") => data_url::decode(url).map(drop),
        _ => Err("invalid url scheme".into()),
    }
}

fn check_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        Err("path not specified")
    } else if !path.starts_with('/') {
        Err("path not absolute")
    } else if clean(path) != path {
        Err("path is not fully simplified")
    } else {
        Ok(())
    }
}

/// Go's `path.Clean` for absolute paths.
fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

fn is_guid(g: &str) -> bool {
    g.is_empty()
        || g.len() == 36
            && g.char_indices().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => c == '-',
                _ => c.is_ascii_hexdigit(),
            })
}

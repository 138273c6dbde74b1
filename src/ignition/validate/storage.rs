//! Storage: files, directories and links; disks and partitions; filesystems,
//! LUKS volumes and RAID arrays.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::super::spec::{IGN_3_3, IGN_3_4, IGN_3_5, IGN_3_6};
use super::{Checker, check_path, clean, int, is_false, is_true, list, not_empty, text, url};

const SPECIAL_BITS: &str =
    "setuid/setgid/sticky bits are not supported or functional in spec versions older than 3.6.0";

impl Checker<'_> {
    pub(super) fn storage(&mut self, s: &Value, at: &str) {
        self.links_in_paths(s, at);
        self.filesystems_on_disks(s, at);
        for (i, dir) in list(s, "directories").iter().enumerate() {
            let path = format!("{at}.directories.{i}");
            self.node(dir, &path);
            self.mode(dir, &path);
            self.owners(dir, &path);
        }
        for (i, disk) in list(s, "disks").iter().enumerate() {
            let path = format!("{at}.disks.{i}");
            self.disk(disk, &path);
            for (j, part) in list(disk, "partitions").iter().enumerate() {
                self.partition(part, &format!("{path}.partitions.{j}"));
            }
        }
        for (i, file) in list(s, "files").iter().enumerate() {
            let path = format!("{at}.files.{i}");
            self.node(file, &path);
            self.mode(file, &path);
            if is_true(file, "overwrite")
                && file.pointer("/contents/source").is_none_or(Value::is_null)
            {
                self.error(
                    &format!("{path}.overwrite"),
                    "overwrite must be false if source is unspecified",
                );
            }
            self.owners(file, &path);
            for (j, res) in list(file, "append").iter().enumerate() {
                self.resource(res, &format!("{path}.append.{j}"));
            }
            if let Some(contents) = file.get("contents") {
                self.resource(contents, &format!("{path}.contents"));
            }
        }
        for (i, fs) in list(s, "filesystems").iter().enumerate() {
            self.filesystem(fs, &format!("{at}.filesystems.{i}"));
        }
        for (i, link) in list(s, "links").iter().enumerate() {
            let path = format!("{at}.links.{i}");
            self.node(link, &path);
            self.owners(link, &path);
        }
        for (i, luks) in list(s, "luks").iter().enumerate() {
            self.luks(luks, &format!("{at}.luks.{i}"));
        }
        for (i, raid) in list(s, "raid").iter().enumerate() {
            let path = format!("{at}.raid.{i}");
            self.raid(raid, &path);
            for (j, device) in list(raid, "devices").iter().enumerate() {
                if let Err(e) = check_path(device.as_str().unwrap_or("")) {
                    self.error(&format!("{path}.devices.{j}"), e);
                }
            }
        }
    }

    fn node(&mut self, node: &Value, at: &str) {
        let result = check_path(text(node, "path").unwrap_or(""));
        self.on_error(at, "path", result);
    }

    fn mode(&mut self, node: &Value, at: &str) {
        let Some(mode) = int(node, "mode") else {
            return;
        };
        if !(0..=0o7777).contains(&mode) {
            self.error(&format!("{at}.mode"), "illegal file mode");
        }
        if self.level < IGN_3_6 && (mode as u32) & 0o7000 != 0 {
            self.warn(&format!("{at}.mode"), SPECIAL_BITS);
        }
    }

    fn owners(&mut self, node: &Value, at: &str) {
        for owner in ["group", "user"] {
            if let Some(o) = node.get(owner)
                && o.get("id").is_some()
                && not_empty(o, "name")
            {
                self.error(&format!("{at}.{owner}"), "cannot set both id and name");
            }
        }
    }

    /// Nothing may be written through a link the config creates, and hard
    /// links may not point at directories.
    fn links_in_paths(&mut self, s: &Value, at: &str) {
        let links = list(s, "links");
        let link_dirs: Vec<String> = links
            .iter()
            .map(|l| format!("{}/", text(l, "path").unwrap_or("")))
            .collect();
        let through_link = |path: &str| {
            link_dirs
                .iter()
                .filter(|l| path.starts_with(l.as_str()))
                .count()
        };
        for (kind, message) in [
            ("directories", "directory path includes link in config"),
            ("files", "file path includes link in config"),
        ] {
            for (i, node) in list(s, kind).iter().enumerate() {
                for _ in 0..through_link(text(node, "path").unwrap_or("")) {
                    self.error(&format!("{at}.{kind}.{i}"), message);
                }
            }
        }
        for (i, link) in links.iter().enumerate() {
            let path = text(link, "path").unwrap_or("");
            let lat = format!("{at}.links.{i}");
            for _ in 0..through_link(path) {
                self.error(&lat, "link path includes link in config");
            }
            let target = text(link, "target").unwrap_or("");
            if self.level >= IGN_3_3 && target.is_empty() {
                self.error(&format!("{lat}.target"), "link target is required");
                continue;
            }
            if !is_true(link, "hard") {
                continue;
            }
            let resolved = if target.starts_with('/') {
                clean(target)
            } else {
                clean(&format!("{path}/{target}"))
            };
            for dir in list(s, "directories") {
                if text(dir, "path") == Some(resolved.as_str()) {
                    self.error(&lat, "hard link target is a directory");
                }
            }
            for owner in ["user", "group"] {
                for field in ["id", "name"] {
                    if link.get(owner).and_then(|o| o.get(field)).is_some() {
                        self.warn(
                            &format!("{lat}.{owner}.{field}"),
                            "user/group ignored for hard link",
                        );
                    }
                }
            }
        }
    }

    /// Filesystems on whole disks that the config partitions or wipes.
    fn filesystems_on_disks(&mut self, s: &Value, at: &str) {
        let disks: HashMap<&str, &Value> = list(s, "disks")
            .iter()
            .map(|d| (text(d, "device").unwrap_or(""), d))
            .collect();
        for (i, fs) in list(s, "filesystems").iter().enumerate() {
            let Some(disk) = disks.get(text(fs, "device").unwrap_or("")) else {
                continue;
            };
            let path = format!("{at}.filesystems.{i}.device");
            if !list(disk, "partitions").is_empty() {
                self.warn(&path, "filesystem overwrites partitioned device");
            } else if !is_true(fs, "wipeFilesystem") && is_true(disk, "wipeTable") {
                self.warn(
                    &path,
                    "device matches disk with wipeTable enabled; filesystem will be wiped",
                );
            }
        }
    }

    fn disk(&mut self, disk: &Value, at: &str) {
        let device = text(disk, "device").unwrap_or("");
        if device.is_empty() {
            self.error(&format!("{at}.device"), "disk device is required");
            return;
        }
        self.on_error(at, "device", check_path(device));
        let parts = list(disk, "partitions");
        let mut by_number: Vec<(i64, Vec<usize>)> = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            let n = int(p, "number").unwrap_or(0);
            if n != 0 {
                match by_number.iter_mut().find(|(k, _)| *k == n) {
                    Some((_, idx)) => idx.push(i),
                    None => by_number.push((n, vec![i])),
                }
            }
        }
        if let Some((_, idx)) = by_number.iter().find(|(_, idx)| idx.len() > 1) {
            self.error(
                &format!("{at}.partitions.{}", idx[1]),
                "partition numbers collide",
            );
        }
        if let Some(i) = overlapping(parts) {
            self.error(&format!("{at}.partitions.{i}"), "partitions overlap");
        }
        let has_zero = parts.iter().any(|p| int(p, "number").unwrap_or(0) == 0);
        if has_zero && parts.iter().any(|p| is_false(p, "shouldExist")) {
            self.error(
                &format!("{at}.partitions"),
                "shouldExist is false for a partition and other partition(s) has start or size 0",
            );
        }
        let mut labels = HashSet::new();
        for (i, p) in parts.iter().enumerate() {
            if let Some(label) = text(p, "label")
                && !labels.insert(label)
            {
                self.error(
                    &format!("{at}.partitions.{i}"),
                    "cannot use the same partition label twice",
                );
                break;
            }
        }
    }

    fn partition(&mut self, p: &Value, at: &str) {
        let others = p.get("label").is_some()
            || not_empty(p, "typeGuid")
            || not_empty(p, "guid")
            || p.get("startMiB").is_some()
            || p.get("sizeMiB").is_some();
        if is_false(p, "shouldExist") && others {
            self.error(
                at,
                "shouldExist specified false with other options also specified",
            );
        }
        if int(p, "number").unwrap_or(0) == 0 && p.get("label").is_none() {
            self.error(at, "a partition number >= 1 or a label must be specified");
        }
        if let Some(label) = text(p, "label") {
            let path = format!("{at}.label");
            if label.len() > 36 {
                self.error(&path, "partition labels may not exceed 36 characters");
            } else if label.contains(':') {
                self.error(
                    &path,
                    "partition label will be truncated to text before the colon",
                );
            }
        }
        for key in ["guid", "typeGuid"] {
            if text(p, key).is_some_and(|g| !is_guid(g)) {
                self.error(
                    &format!("{at}.{key}"),
                    "doesn't match the form \"01234567-89AB-CDEF-EDCB-A98765432101\"",
                );
            }
        }
    }

    fn filesystem(&mut self, fs: &Value, at: &str) {
        if let Some(path) = text(fs, "path").filter(|p| !p.is_empty()) {
            self.on_error(at, "path", check_path(path));
        }
        self.on_error(at, "device", check_path(text(fs, "device").unwrap_or("")));
        let format = text(fs, "format").unwrap_or("");
        if format.is_empty() {
            let others = ["path", "label", "uuid"].iter().any(|k| not_empty(fs, k))
                || is_true(fs, "wipeFilesystem")
                || !list(fs, "mountOptions").is_empty()
                || !list(fs, "options").is_empty();
            if others {
                self.error(
                    &format!("{at}.format"),
                    "format cannot be empty when path, label, uuid, wipeFilesystem, options, or mountOptions is specified",
                );
            }
        } else {
            let known = matches!(format, "ext4" | "btrfs" | "xfs" | "swap" | "vfat")
                || (format == "none" && self.level >= IGN_3_3);
            if !known {
                self.error(&format!("{at}.format"), "invalid filesystem format");
            }
        }
        let label = text(fs, "label").unwrap_or("");
        if label.is_empty() {
            return;
        }
        let max = match format {
            "" => {
                self.error(
                    &format!("{at}.label"),
                    "filesystem must specify format if label is specified",
                );
                return;
            }
            "ext4" => 16,
            "btrfs" => 256,
            "xfs" => 12,
            "swap" => 15,
            "vfat" => 11,
            _ => return,
        };
        if label.len() > max {
            self.error(
                &format!("{at}.label"),
                format!(
                    "filesystem labels cannot be longer than {max} characters when using {format}"
                ),
            );
        }
    }

    fn luks(&mut self, luks: &Value, at: &str) {
        if text(luks, "name").unwrap_or("").contains('/') {
            self.error(&format!("{at}.name"), "device names cannot contain slashes");
        }
        if text(luks, "label").is_some_and(|l| l.len() > 47) {
            self.error(
                &format!("{at}.label"),
                "luks device labels cannot be longer than 47 characters",
            );
        }
        match text(luks, "device").filter(|d| !d.is_empty()) {
            None => self.error(&format!("{at}.device"), "disk device is required"),
            Some(d) => self.on_error(at, "device", check_path(d)),
        }
        let clevis = luks.get("clevis");
        let c = |k: &str| clevis.and_then(|c| c.get(k));
        let others = c("tang")
            .and_then(Value::as_array)
            .is_some_and(|t| !t.is_empty())
            || c("tpm2").and_then(Value::as_bool) == Some(true)
            || c("threshold")
                .and_then(Value::as_i64)
                .is_some_and(|t| t != 0);
        let custom = if self.level >= IGN_3_3 {
            c("custom").is_some_and(|cu| not_empty(cu, "pin"))
        } else {
            c("custom").is_some()
        };
        if custom && others {
            self.error(
                &format!("{at}.clevis"),
                "cannot use custom clevis config with tpm2, tang, or threshold",
            );
        }
        if let Some(source) = luks.pointer("/keyFile/source").and_then(Value::as_str)
            && !source.is_empty()
            && url::check(source, self.level).is_err()
        {
            self.error(&format!("{at}.keys"), "invalid key-file source");
        }
        let cex = luks.pointer("/cex/enabled").and_then(Value::as_bool) == Some(true);
        if self.level >= IGN_3_5 && cex {
            let clevis_present = others || c("custom").is_some_and(|cu| not_empty(cu, "pin"));
            if clevis_present {
                self.error(&format!("{at}.cex"), "cannot use cex with clevis");
            }
            if luks
                .pointer("/keyFile/source")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
            {
                self.error(&format!("{at}.cex"), "cannot use key file with cex");
            }
        }
        if let Some(cu) = c("custom") {
            self.clevis_custom(cu, &format!("{at}.clevis.custom"));
        }
        let tangs = clevis.map_or(super::NO_VALUES, |c| list(c, "tang"));
        for (i, tang) in tangs.iter().enumerate() {
            self.tang(tang, &format!("{at}.clevis.tang.{i}"));
        }
        if let Some(key) = luks.get("keyFile") {
            self.resource(key, &format!("{at}.keyFile"));
        }
    }

    fn clevis_custom(&mut self, cu: &Value, at: &str) {
        let pin = text(cu, "pin").unwrap_or("");
        let config = text(cu, "config").unwrap_or("");
        let known_pin = matches!(pin, "tpm2" | "tang" | "sss");
        if self.level < IGN_3_3 {
            if pin.is_empty() && config.is_empty() {
                return;
            }
            if !known_pin {
                self.error(&format!("{at}.pin"), "unsupported clevis pin");
            }
        } else {
            if pin.is_empty() && config.is_empty() && !is_true(cu, "needsNetwork") {
                return;
            }
            if pin.is_empty() {
                self.error(&format!("{at}.pin"), "missing required custom clevis pin");
            } else if self.level < IGN_3_6 && !known_pin {
                self.error(&format!("{at}.pin"), "unsupported clevis pin");
            }
        }
        if config.is_empty() {
            self.error(
                &format!("{at}.config"),
                "missing required custom clevis config",
            );
        }
    }

    fn tang(&mut self, tang: &Value, at: &str) {
        let scheme =
            url::parse(text(tang, "url").unwrap_or("")).and_then(|u| match u.scheme.as_str() {
                "http" | "https" => Ok(()),
                _ => Err(url::INVALID_SCHEME),
            });
        self.on_error(at, "url", scheme);
        if !not_empty(tang, "thumbprint") {
            self.error(&format!("{at}.thumbprint"), "thumbprint is required");
        }
        if self.level >= IGN_3_4
            && let Some(adv) = text(tang, "advertisement").filter(|a| !a.is_empty())
            && serde_json::from_str::<Value>(adv).is_err()
        {
            self.error(
                &format!("{at}.advertisement"),
                "advertisement is not valid JSON",
            );
        }
    }

    fn raid(&mut self, raid: &Value, at: &str) {
        let level = text(raid, "level").unwrap_or("");
        let result = match level {
            "" if self.level >= IGN_3_3 => Err("raid level is required"),
            "linear" | "raid0" | "0" | "stripe" if int(raid, "spares").unwrap_or(0) != 0 => {
                Err("spares unsupported for linear and raid0 arrays")
            }
            "linear" | "raid0" | "0" | "stripe" | "raid1" | "1" | "mirror" | "raid4" | "4"
            | "raid5" | "5" | "raid6" | "6" | "raid10" | "10" => Ok(()),
            _ => Err("unrecognized raid level"),
        };
        self.on_error(at, "level", result);
        if list(raid, "devices").is_empty() {
            self.error(&format!("{at}.devices"), "raid devices required");
        }
    }
}

/// The index of the partition an explicitly placed partition overlaps, if any
/// (Ignition's `partitionsOverlap`).
fn overlapping(parts: &[Value]) -> Option<usize> {
    let placed = |p: &Value| {
        let start = int(p, "startMiB")?;
        let size = int(p, "sizeMiB")?;
        (start != 0).then_some((start, if size == 0 { start } else { start + size - 1 }))
    };
    for (pi, p) in parts.iter().enumerate() {
        let Some((p_start, p_end)) = placed(p) else {
            continue;
        };
        for (oi, o) in parts.iter().enumerate() {
            let Some((o_start, o_end)) = placed(o) else {
                continue;
            };
            if oi == pi {
                continue;
            }
            let start_in = p_start >= o_start && p_start <= o_end;
            let end_in = p_end >= o_start && p_end <= o_end;
            let straddles = p_start < o_start && p_end > o_end;
            if start_in || end_in || straddles {
                return Some(oi);
            }
        }
    }
    None
}

fn is_guid(g: &str) -> bool {
    g.is_empty()
        || g.len() == 36
            && g.char_indices().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => c == '-',
                _ => c.is_ascii_hexdigit(),
            })
}

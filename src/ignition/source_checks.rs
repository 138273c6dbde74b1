//! Checks of a Butane config that concern more than one field: the boot
//! device, and (fcos 1.6 on) partitions reused by label and mount points.

use serde_json::{Map, Value};

use super::error::Report;
use super::requests::Here;
use super::spec::{FCOS_1_6, FCOS_1_7, Level};
use super::translate::{Walker, child};
use super::yaml::{Kind, Node};

const BOOT_DISK: &str = "/dev/disk/by-id/coreos-boot-disk";

fn seq(node: Option<&Node>) -> &[Node] {
    match node.map(|n| &n.kind) {
        Some(Kind::Seq(items)) => items,
        _ => &[],
    }
}

fn given(node: Option<&Node>) -> bool {
    node.is_some_and(|n| !matches!(n.kind, Kind::Null))
}

/// fcos 1.6 on: partitions that would be reused by label, which only works
/// on the boot disk or a wiped table, and mount units outside /etc and /var.
/// The official tool checks these before anything else of the config.
pub(crate) fn root(tree: &Node, level: Level, r: &mut Report) {
    if level < FCOS_1_6 {
        return;
    }
    let storage = tree.get("storage");
    let mirrored: Vec<&str> = seq(tree
        .get("boot_device")
        .and_then(|b| b.get("mirror"))
        .and_then(|m| m.get("devices")))
    .iter()
    .filter_map(Node::as_str)
    .collect();
    for (i, disk) in seq(storage.and_then(|s| s.get("disks"))).iter().enumerate() {
        let device = disk.get("device").and_then(Node::as_str).unwrap_or("");
        let wiped = disk.get("wipe_table").and_then(Node::as_bool) == Some(true);
        if device == BOOT_DISK || wiped || mirrored.contains(&device) {
            continue;
        }
        for (p, part) in seq(disk.get("partitions")).iter().enumerate() {
            let number = part.get("number").and_then(Node::as_int).unwrap_or(0);
            if number == 0 && given(part.get("label")) {
                r.warn(
                    &format!("$.storage.disks.{i}.partitions.{p}.number"),
                    None,
                    "partitions cannot be reused by label; number must be specified except on boot disk (/dev/disk/by-id/coreos-boot-disk) or when wipe_table is true",
                );
            }
        }
    }
    for (i, fs) in seq(storage.and_then(|s| s.get("filesystems")))
        .iter()
        .enumerate()
    {
        let Some(path) = fs
            .get("path")
            .filter(|p| given(Some(p)))
            .and_then(Node::as_str)
        else {
            continue;
        };
        let allowed = ["/etc", "/var"].iter().any(|d| {
            path.strip_prefix(d)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        });
        if !allowed && fs.get("with_mount_unit").and_then(Node::as_bool) == Some(true) {
            r.error(
                &format!("$.storage.filesystems.{i}.path"),
                None,
                "path must be under /etc or /var if with_mount_unit is true",
            );
        }
    }
}

/// `device` ends with `prefix` and one lower-case letter.
fn ends_with_disk(device: &str, prefix: &str) -> bool {
    let Some(last) = device.chars().last().filter(char::is_ascii_lowercase) else {
        return false;
    };
    device[..device.len() - last.len_utf8()].ends_with(prefix)
}

impl Walker<'_> {
    /// The checks of `boot_device` (fcos 1.3 on).
    pub(super) fn check_boot_device(&mut self, at: &Here, out: &Map<String, Value>) {
        let r = &mut self.report;
        let level = self.level;
        let path = |k: &str| child(at.src, k);
        let layout = out.get("layout").and_then(Value::as_str);
        let luks = out.get("luks");
        let lget = |k: &str| luks.and_then(|l| l.get(k));
        let devices = out
            .get("mirror")
            .and_then(|m| m.get("devices"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if devices > 0 && layout.is_none() {
            let message =
                "boot_device.layout should be specified when boot_device.mirror is specified";
            if level >= FCOS_1_7 {
                r.error(&path("mirror"), None, message);
            } else {
                r.warn(&path("mirror"), None, message);
            }
        }
        if level < FCOS_1_6 {
            if layout.is_some_and(|l| !matches!(l, "aarch64" | "ppc64le" | "x86_64")) {
                r.error(
                    &path("layout"),
                    None,
                    "layout must be one of: aarch64, ppc64le, x86_64",
                );
            }
        } else {
            if let Some(l) = layout {
                let device = lget("device").and_then(Value::as_str).unwrap_or("");
                let disk_prefix = match l {
                    "aarch64" | "ppc64le" | "x86_64" | "s390x-virt" => None,
                    "s390x-eckd" => Some("/dev/dasd"),
                    "s390x-zfcp" => Some("/dev/sd"),
                    _ => {
                        r.error(
                            &path("layout"),
                            None,
                            "layout must be one of: aarch64, ppc64le, s390x-eckd, s390x-virt, s390x-zfcp, x86_64",
                        );
                        None
                    }
                };
                if let Some(prefix) = disk_prefix {
                    if device.is_empty() {
                        r.error(
                            &path("layout"),
                            None,
                            "device is required for layouts: s390x-eckd, s390x-zfcp",
                        );
                    } else if !ends_with_disk(device, prefix) {
                        r.error(
                            &path("layout"),
                            None,
                            "device name must start with /dev/dasd on s390x-eckd layout or /dev/sd on s390x-zfcp layout",
                        );
                    }
                }
                if l.starts_with("s390x") && devices > 0 {
                    r.error(
                        &path("layout"),
                        None,
                        "mirroring not supported on layouts: s390x-eckd, s390x-zfcp, s390x-virt",
                    );
                }
            }
            let cex = lget("cex")
                .and_then(|c| c.get("enabled"))
                .and_then(Value::as_bool)
                == Some(true);
            if cex {
                let mismatch = "when using cex the targeted architecture must match s390x";
                match layout {
                    None => r.error(&path("luks.cex"), None, mismatch),
                    Some(l) if !l.starts_with("s390x") => r.error(&path("layout"), None, mismatch),
                    Some(_) => {}
                }
                let tang = lget("tang")
                    .and_then(Value::as_array)
                    .is_some_and(|t| !t.is_empty());
                if tang || lget("tpm2").and_then(Value::as_bool) == Some(true) {
                    r.error(&path("luks"), None, "cannot use cex with clevis");
                }
            }
        }
        if devices == 1 {
            r.error(
                &path("mirror.devices"),
                None,
                "mirroring requires at least two devices",
            );
        }
        if level >= FCOS_1_7
            && lget("device")
                .and_then(Value::as_str)
                .is_some_and(|d| !d.is_empty())
        {
            let tang = lget("tang").and_then(Value::as_array).is_some_and(|t| {
                t.iter()
                    .any(|e| e.as_object().is_some_and(|o| !o.is_empty()))
            });
            let tpm2 = lget("tpm2").and_then(Value::as_bool) == Some(true);
            let cex = lget("cex")
                .and_then(|c| c.get("enabled"))
                .and_then(Value::as_bool)
                == Some(true);
            if !(tang || tpm2 || cex) {
                r.error(&path("luks.luks"), None, "no method specified for luks");
            }
        }
    }
}

//! `boot_device`: the boot disk layout Butane generates for a mirrored boot
//! disk (RAID1 over every device) and an encrypted root (LUKS bound to TPM2,
//! Tang servers or an IBM CEX card).

use serde_json::{Map, Value, json};

use super::locs::Locs;
use super::spec::{FCOS_1_5, FCOS_1_6};
use super::translate::Walker;

const RESERVED_TYPE_GUID: &str = "8DA63339-0007-60C0-C436-083AC8230908";
const BIOS_TYPE_GUID: &str = "21686148-6449-6E6F-744E-656564454649";
const PREP_TYPE_GUID: &str = "9E1A2D38-C612-4316-AA26-8B49521E5A8B";
const ESP_TYPE_GUID: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";

/// Sizes of the first partitions of the OS image, which mirrored disks copy.
const RESERVED_MIB: i64 = 1;
const BIOS_MIB: i64 = 1;
const PREP_MIB: i64 = 4;
const ESP_MIB: i64 = 127;
const BOOT_MIB: i64 = 384;

fn partition(prefix: &str, n: usize, size: i64, type_guid: &str) -> Value {
    json!({"label": format!("{prefix}-{n}"), "sizeMiB": size, "typeGuid": type_guid})
}

fn filesystem(device: &str, format: &str, label: &str) -> Value {
    json!({"device": device, "format": format, "label": label, "wipeFilesystem": true})
}

impl Walker<'_> {
    /// The storage `boot_device` stands for (empty when it asks for nothing),
    /// with where each part came from.
    pub(super) fn boot_device_layout(&self, bd: &Value) -> (Value, Locs) {
        let mut locs = Locs::default();
        let luks_src = bd.get("luks").cloned().unwrap_or_default();
        let lget = |k: &str| luks_src.get(k);
        let is_true = |v: Option<&Value>| v.and_then(Value::as_bool) == Some(true);
        let tang = lget("tang")
            .and_then(Value::as_array)
            .is_some_and(|t| !t.is_empty());
        let cex = self.level >= FCOS_1_6 && is_true(lget("cex").and_then(|c| c.get("enabled")));
        let want_luks = is_true(lget("tpm2")) || tang || cex;
        let devices: Vec<&str> = bd
            .pointer("/mirror/devices")
            .and_then(Value::as_array)
            .map(|d| d.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let want_mirror = !devices.is_empty();
        if !want_luks && !want_mirror {
            return (json!({}), locs);
        }
        let layout = bd.get("layout").and_then(Value::as_str);
        let (bios, efi, prep) = match layout {
            None | Some("x86_64") => (true, true, false),
            Some("aarch64") => (false, true, false),
            Some("ppc64le") => (false, false, true),
            _ => (false, false, false),
        };
        let mut storage = Map::new();
        let mut disks = Vec::new();
        let mut filesystems = Vec::new();
        if want_mirror {
            for (i, device) in devices.iter().enumerate() {
                let n = i + 1;
                let src = format!("$.boot_device.mirror.devices.{i}");
                let mut parts = vec![if bios {
                    partition("bios", n, BIOS_MIB, BIOS_TYPE_GUID)
                } else if prep {
                    partition("prep", n, PREP_MIB, PREP_TYPE_GUID)
                } else {
                    partition("reserved", n, RESERVED_MIB, RESERVED_TYPE_GUID)
                }];
                parts.push(if efi {
                    partition("esp", n, ESP_MIB, ESP_TYPE_GUID)
                } else {
                    partition("reserved", n, RESERVED_MIB, RESERVED_TYPE_GUID)
                });
                parts.push(json!({"label": format!("boot-{n}"), "sizeMiB": BOOT_MIB}));
                parts.push(json!({"label": format!("root-{n}")}));
                let disk = json!({"device": device, "partitions": parts, "wipeTable": true});
                locs.cover(&src, &format!("$.storage.disks.{i}"), &disk);
                disks.push(disk);
                if efi {
                    let esp = filesystem(
                        &format!("/dev/disk/by-partlabel/esp-{n}"),
                        "vfat",
                        &format!("esp-{n}"),
                    );
                    locs.cover(
                        &src,
                        &format!("$.storage.filesystems.{}", filesystems.len()),
                        &esp,
                    );
                    filesystems.push(esp);
                }
            }
            locs.insert("$.storage.disks", "$.boot_device.mirror.devices");
            let members = |prefix: &str| -> Vec<String> {
                (1..=devices.len())
                    .map(|n| format!("/dev/disk/by-partlabel/{prefix}-{n}"))
                    .collect()
            };
            let raid = json!([
                {"devices": members("boot"), "level": "raid1", "name": "md-boot", "options": ["--metadata=1.0"]},
                {"devices": members("root"), "level": "raid1", "name": "md-root"},
            ]);
            locs.cover("$.boot_device.mirror", "$.storage.raid", &raid);
            storage.insert("raid".into(), raid);
            let boot = filesystem("/dev/md/md-boot", "ext4", "boot");
            locs.cover(
                "$.boot_device.mirror",
                &format!("$.storage.filesystems.{}", filesystems.len()),
                &boot,
            );
            filesystems.push(boot);
        }
        if want_luks {
            let device = match layout {
                Some("s390x-eckd") => {
                    format!("{}2", lget("device").and_then(Value::as_str).unwrap_or(""))
                }
                Some("s390x-zfcp") => {
                    format!("{}4", lget("device").and_then(Value::as_str).unwrap_or(""))
                }
                _ if want_mirror => "/dev/md/md-root".to_owned(),
                _ => "/dev/disk/by-partlabel/root".to_owned(),
            };
            let src = "$.boot_device.luks";
            let out = "$.storage.luks.0";
            let mut luks = Map::new();
            if cex {
                let cex = json!({"enabled": true});
                locs.mirror(src, &format!("{out}.cex"), &cex);
                luks.insert("cex".into(), cex);
            } else {
                let clevis: Map<String, Value> = ["tang", "threshold", "tpm2"]
                    .into_iter()
                    .filter_map(|k| lget(k).map(|v| (k.to_owned(), v.clone())))
                    .collect();
                let clevis = Value::Object(clevis);
                locs.mirror(src, &format!("{out}.clevis"), &clevis);
                luks.insert("clevis".into(), clevis);
            }
            luks.insert("device".into(), device.into());
            if self.level >= FCOS_1_5
                && let Some(discard) = lget("discard")
            {
                luks.insert("discard".into(), discard.clone());
            }
            luks.insert("label".into(), "luks-root".into());
            luks.insert("name".into(), "root".into());
            luks.insert("wipeVolume".into(), true.into());
            locs.insert(&format!("{out}.discard"), &format!("{src}.discard"));
            for field in ["device", "label", "name", "wipeVolume"] {
                locs.insert(&format!("{out}.{field}"), src);
            }
            locs.insert(out, src);
            locs.insert("$.storage.luks", src);
            storage.insert("luks".into(), json!([luks]));
        }
        let root_device = if want_luks {
            "/dev/mapper/root"
        } else {
            "/dev/md/md-root"
        };
        let root = filesystem(root_device, "xfs", "root");
        locs.cover(
            "$.boot_device",
            &format!("$.storage.filesystems.{}", filesystems.len()),
            &root,
        );
        filesystems.push(root);
        locs.insert("$.storage.filesystems", "$.boot_device");
        locs.insert("$.storage", "$.boot_device");
        if !disks.is_empty() {
            storage.insert("disks".into(), Value::Array(disks));
        }
        storage.insert("filesystems".into(), Value::Array(filesystems));
        (json!({"storage": storage}), locs)
    }
}

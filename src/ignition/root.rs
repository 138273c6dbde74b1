//! What happens once a whole Butane config is converted, in the official
//! tool's order: the Ignition version is set, mount units are added, trees
//! are read, the boot device is laid out, partitions are checked, GRUB users
//! are added. Generated parts are merged under the user's config.

use serde_json::{Map, Value, json};

use super::error::Phase;
use super::ignition_merge;
use super::locs::Locs;
use super::mount_unit::mount_unit;
use super::spec::{FCOS_1_1, FCOS_1_3, FCOS_1_5, ignition_version};
use super::translate::Walker;

const SECTIONS: [&str; 5] = [
    "ignition",
    "kernelArguments",
    "passwd",
    "storage",
    "systemd",
];

impl Walker<'_> {
    /// Sets `ignition.version`, then adds what Butane generates.
    pub(super) fn finish_root(
        &mut self,
        extras: &Map<String, Value>,
        out: &mut Map<String, Value>,
    ) {
        let ignition = out
            .entry("ignition")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(section) = ignition {
            section.insert("version".into(), ignition_version(self.level).into());
        }
        self.locs.insert("$.ignition", "$.ignition");
        self.locs.insert("$.ignition.version", "$.version");
        let mut config = Value::Object(std::mem::take(out));
        self.in_phase(Phase::Translate, |w| {
            if w.level >= FCOS_1_1 {
                w.add_mount_units(&mut config);
                w.add_trees(&mut config);
            }
            if w.level >= FCOS_1_3
                && let Some(boot_device) = extras.get("boot_device")
            {
                let (generated, locs) = w.boot_device_layout(boot_device);
                w.merge_generated(generated, locs, &mut config);
            }
            w.check_partitions(&config);
            if w.level >= FCOS_1_5
                && let Some(users) = extras
                    .get("grub")
                    .and_then(|g| g.get("users"))
                    .and_then(Value::as_array)
                && !users.is_empty()
            {
                let (generated, locs) = super::grub::user_config(users);
                w.merge_generated(generated, locs, &mut config);
            }
        });
        if let Value::Object(mut map) = config {
            for key in SECTIONS {
                if let Some(v) = map.remove(key) {
                    out.insert(key.into(), v);
                }
            }
        }
    }

    /// Merges `generated` (with where its parts came from) under `config`.
    fn merge_generated(&mut self, generated: Value, locs: Locs, config: &mut Value) {
        let merged = ignition_merge::merge(&generated, config, self.level);
        let mut ours = std::mem::take(&mut self.locs).moved(&merged.child_moves);
        ours.fill_from(locs.moved(&merged.parent_moves));
        self.locs = ours;
        *config = merged.value;
    }

    fn add_mount_units(&mut self, config: &mut Value) {
        if self.mounts.is_empty() {
            return;
        }
        let luks = config
            .pointer("/storage/luks")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut locs = Locs::default();
        locs.insert("$.systemd", "$.storage.filesystems");
        locs.insert("$.systemd.units", "$.storage.filesystems");
        let units: Vec<Value> = std::mem::take(&mut self.mounts)
            .into_iter()
            .enumerate()
            .map(|(i, request)| {
                let unit = mount_unit(&request.fs, &luks, self.level);
                locs.cover(&request.src, &format!("$.systemd.units.{i}"), &unit);
                unit
            })
            .collect();
        self.merge_generated(json!({"systemd": {"units": units}}), locs, config);
    }

    /// fcos checks of partitions: the root partition's size and reserved
    /// labels at other numbers.
    fn check_partitions(&mut self, config: &Value) {
        let disks = config.pointer("/storage/disks").and_then(Value::as_array);
        for (i, disk) in disks.into_iter().flatten().enumerate() {
            let wiped = disk.get("wipeTable").and_then(Value::as_bool) == Some(true);
            let parts = disk.get("partitions").and_then(Value::as_array);
            let parts = parts.map_or(&[][..], Vec::as_slice);
            for (p, part) in parts.iter().enumerate() {
                let Some(label) = part.get("label").and_then(Value::as_str) else {
                    continue;
                };
                let at = format!("$.storage.disks.{i}.partitions.{p}");
                let int = |v: &Value, k: &str| v.get(k).and_then(Value::as_i64).unwrap_or(0);
                if self.level >= FCOS_1_3 && label == "root" {
                    let size = int(part, "sizeMiB");
                    if size == 0 {
                        let auto_placed = parts
                            .iter()
                            .enumerate()
                            .any(|(idx, o)| idx != p && int(o, "startMiB") == 0);
                        if auto_placed {
                            self.report.output_warn(
                                &format!("{at}.label"),
                                "root partition cannot expand; it is set to fill available space but is followed by an auto-positioned partition",
                            );
                        }
                    } else if size < 8192 {
                        self.report.output_warn(
                            &format!("{at}.size_mib"),
                            "root should have 8GiB of space assigned",
                        );
                    }
                }
                let number = int(part, "number");
                let reserved = match label {
                    "BIOS-BOOT" | "PowerPC-PReP-boot" => Some(1),
                    "EFI-SYSTEM" => Some(2),
                    "boot" => Some(3),
                    "root" => Some(4),
                    _ => None,
                };
                if !wiped && reserved.is_some_and(|n| n != number) {
                    self.report.output_warn(
                        &format!("{at}.label"),
                        "incorrect partition number; a new partition will be created using reserved label",
                    );
                }
            }
        }
    }
}

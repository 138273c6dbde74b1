//! The Butane extensions run on each object while walking a Butane config:
//! inline and local contents, local unit contents and SSH keys, and the
//! requests for mount units and trees that are served once the whole config
//! is converted (in `root`), with the Butane checks of those objects.

use serde_json::{Map, Value};

use super::data_url;
use super::embedded;
use super::error::Phase;
use super::local::within;
use super::mode::is_decimal_mistake;
use super::requests::{Here, MountRequest, TreeRequest};
use super::schema::Hook;
use super::spec::{FCOS_1_1, FCOS_1_4, FCOS_1_5};
use super::translate::{Walker, child};
use super::yaml::Mark;

fn text<'m>(m: &'m Map<String, Value>, key: &str) -> Option<&'m str> {
    m.get(key).and_then(Value::as_str)
}

impl Walker<'_> {
    pub(super) fn hook(
        &mut self,
        hook: Hook,
        at: &Here,
        extras: &Map<String, Value>,
        out: &mut Map<String, Value>,
    ) {
        match hook {
            Hook::None => {}
            Hook::Root => self.finish_root(extras, out),
            Hook::Resource => self.resource(at, extras, out),
            Hook::File | Hook::Directory => {
                if let Some(mode) = out.get("mode").and_then(Value::as_i64)
                    && is_decimal_mistake(mode, hook == Hook::Directory)
                {
                    self.report.warn(
                        &child(at.src, "mode"),
                        None,
                        "unreasonable mode would be reasonable if specified in octal; \
                         remember to add a leading zero",
                    );
                }
            }
            Hook::Unit => self.unit_contents_local(at, extras, out),
            Hook::User => self.local_ssh_keys(at, extras, out),
            Hook::Filesystem => self.mount_request(at, extras, out),
            Hook::Tree => self.tree_request(at, out),
            Hook::BootDevice => self.check_boot_device(at, out),
            Hook::GrubUser => {
                if text(out, "name").is_none_or(str::is_empty) {
                    self.report
                        .error(&child(at.src, "name"), None, "field \"name\" is required");
                }
                if text(out, "password_hash").is_none_or(str::is_empty) {
                    self.report.error(
                        &child(at.src, "password_hash"),
                        None,
                        "field \"password_hash\" is required",
                    );
                }
            }
        }
    }

    /// Runs `f` with new entries of the report in `phase`.
    pub(super) fn in_phase<T>(&mut self, phase: Phase, f: impl FnOnce(&mut Self) -> T) -> T {
        let saved = self.report.phase.replace(phase);
        let result = f(self);
        self.report.phase = saved;
        result
    }

    fn resource(&mut self, at: &Here, extras: &Map<String, Value>, out: &mut Map<String, Value>) {
        let candidates: &[&str] = if self.level >= FCOS_1_1 {
            &["local", "inline", "source"]
        } else {
            &["inline", "source"]
        };
        let present: Vec<&str> = candidates.iter().copied().filter(|k| at.has(k)).collect();
        if present.len() > 1 {
            let field = if self.level >= FCOS_1_1 {
                present[present.len() - 1]
            } else {
                "inline"
            };
            self.report.error(
                &child(at.src, field),
                None,
                "only one of the following can be set: inline, local, source",
            );
            return;
        }
        let inline = extras.get("inline").and_then(Value::as_str);
        if let Some(text) = inline
            && self.level >= FCOS_1_1
            && at.src.starts_with("$.ignition.config")
        {
            self.embedded_config(at.src, text);
        }
        let (field, contents) = if let Some(text) = inline {
            ("inline", text.as_bytes().to_vec())
        } else if let Some(local) = extras.get("local").and_then(Value::as_str) {
            let path = child(at.src, "local");
            match self.in_phase(Phase::Translate, |w| w.read_local(local, &path, None)) {
                Some(bytes) => ("local", bytes),
                None => return,
            }
        } else {
            return;
        };
        let from = child(at.src, field);
        if self.level < FCOS_1_1 {
            let url = format!("data:,{}", data_url::escape(&contents));
            out.insert("source".into(), url.into());
            self.locs.insert(&child(at.dst, "source"), &from);
            return;
        }
        let user_compressed = text(out, "compression").is_some_and(|c| !c.is_empty());
        let (url, compression) = data_url::encode(&contents, user_compressed);
        out.insert("source".into(), url.into());
        self.locs.insert(&child(at.dst, "source"), &from);
        if let Some(c) = compression {
            out.insert("compression".into(), c.into());
            self.locs.insert(&child(at.dst, "compression"), &from);
        }
    }

    /// Checks an inline merged or replacing config as the official tool
    /// does: its problems are reported with their own paths.
    fn embedded_config(&mut self, resource_src: &str, raw: &str) {
        let found = embedded::check(raw, self.level);
        if found.unknown_version {
            self.report.warn(
                &child(resource_src, "version"),
                None,
                "skipping validation for the merge/replace ignition config due to an unkown version",
            );
        }
        for e in found.entries {
            self.report.push(e);
        }
        if found.unparsable {
            self.report
                .error(&child(resource_src, "inline"), None, "config is not valid");
        }
    }

    fn unit_contents_local(
        &mut self,
        at: &Here,
        extras: &Map<String, Value>,
        out: &mut Map<String, Value>,
    ) {
        if self.level < FCOS_1_5 {
            return;
        }
        let path = child(at.src, "contents_local");
        if at.has("contents_local") && at.has("contents") {
            self.report.error(
                &path,
                None,
                "only one of the following can be set: contents, contents_local",
            );
            return;
        }
        let Some(local) = extras
            .get("contents_local")
            .and_then(Value::as_str)
            .filter(|l| !l.is_empty())
        else {
            return;
        };
        if let Some(bytes) = self.in_phase(Phase::Translate, |w| w.read_local(local, &path, None)) {
            out.insert(
                "contents".into(),
                String::from_utf8_lossy(&bytes).into_owned().into(),
            );
            self.locs.insert(&child(at.dst, "contents"), &path);
        }
    }

    fn local_ssh_keys(
        &mut self,
        at: &Here,
        extras: &Map<String, Value>,
        out: &mut Map<String, Value>,
    ) {
        let Some(files) = extras
            .get("ssh_authorized_keys_local")
            .and_then(Value::as_array)
            .filter(|f| !f.is_empty())
        else {
            return;
        };
        let base = child(at.src, "ssh_authorized_keys_local");
        let keys_dst = child(at.dst, "sshAuthorizedKeys");
        self.locs.insert(&keys_dst, &base);
        if self.opts.files_dir.is_none() {
            self.in_phase(Phase::Translate, |w| {
                w.report.error(&base, None, super::local::NO_FILES_DIR)
            });
            return;
        }
        let mut keys = match out.remove("sshAuthorizedKeys") {
            Some(Value::Array(keys)) => keys,
            _ => Vec::new(),
        };
        for (i, file) in files.iter().enumerate() {
            let name = file.as_str().unwrap_or_default();
            let path = child(&base, i);
            let Some(bytes) = self.in_phase(Phase::Translate, |w| w.read_local(name, &path, None))
            else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            for line in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
                if !line.is_empty() {
                    self.locs.insert(&child(&keys_dst, keys.len()), &path);
                    keys.push(line.into());
                }
            }
        }
        if !keys.is_empty() {
            out.insert("sshAuthorizedKeys".into(), Value::Array(keys));
        }
    }

    fn mount_request(&mut self, at: &Here, extras: &Map<String, Value>, out: &Map<String, Value>) {
        if extras.get("with_mount_unit") != Some(&Value::Bool(true)) {
            return;
        }
        let format = text(out, "format").unwrap_or("");
        let path = text(out, "path").unwrap_or("");
        let no_path = "path is required if with_mount_unit is true and format is not swap";
        let no_format = "format is required if with_mount_unit is true";
        if self.level < FCOS_1_4 {
            if path.is_empty() {
                self.report.error(&child(at.src, "path"), None, no_path);
            }
            if format.is_empty() {
                self.report.error(&child(at.src, "format"), None, no_format);
            }
            if path.is_empty() || format.is_empty() {
                return;
            }
        } else if format.is_empty() {
            self.report.error(&child(at.src, "format"), None, no_format);
            return;
        } else if format != "swap" && path.is_empty() {
            self.report.error(&child(at.src, "path"), None, no_path);
            return;
        }
        self.mounts.push(MountRequest {
            fs: out.clone(),
            src: child(at.src, "with_mount_unit"),
        });
    }

    fn tree_request(&mut self, at: &Here, out: &Map<String, Value>) {
        let local = text(out, "local").unwrap_or("");
        if local.is_empty() {
            self.report.error(at.src, None, "local is required");
            return;
        }
        let int = |k: &str| out.get(k).and_then(Value::as_i64);
        self.trees.push(TreeRequest {
            local: local.to_owned(),
            path: text(out, "path").map(str::to_owned),
            user: out.get("user").cloned(),
            group: out.get("group").cloned(),
            file_mode: int("file_mode"),
            dir_mode: int("dir_mode"),
            src: at.src.to_owned(),
        });
    }

    /// Reads a file under `files_dir`, reporting at `path` what went wrong.
    pub(super) fn read_local(
        &mut self,
        rel: &str,
        path: &str,
        mark: Option<Mark>,
    ) -> Option<Vec<u8>> {
        let read = within(self.opts.files_dir.as_deref(), rel)
            .and_then(|p| std::fs::read(&p).map_err(|e| format!("open {}: {e}", p.display())));
        read.map_err(|e| self.report.error(path, mark, e)).ok()
    }
}

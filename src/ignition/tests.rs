use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn fixtures() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/butane"
    ))
    .to_path_buf()
}

fn opts() -> Options {
    Options {
        files_dir: Some(fixtures()),
        strict: true,
    }
}

#[path = "../../tests/common/fixtures.rs"]
mod fixtures;
use fixtures::files;

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The config with every `data:` URL decoded (and gunzipped) and every
/// `compression` field dropped.
fn normalized(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let gzip = m.get("compression") == Some(&json!("gzip"));
            let mut out = serde_json::Map::new();
            for (k, item) in m.iter().filter(|(k, _)| *k != "compression") {
                let decoded = match item
                    .as_str()
                    .filter(|s| k == "source" && s.starts_with("data:"))
                {
                    Some(url) => {
                        let bytes = data_url::decode(url).unwrap();
                        let bytes = if gzip { gunzip(&bytes) } else { bytes };
                        Value::String(String::from_utf8(bytes).unwrap())
                    }
                    None => normalized(item),
                };
                out.insert(k.clone(), decoded);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(normalized).collect()),
        other => other.clone(),
    }
}

#[test]
fn every_fixture_is_reproduced() {
    let dir = fixtures();
    let sources = files(&dir, "bu");
    assert!(sources.len() >= 41, "fixtures missing in {}", dir.display());
    for bu in sources {
        let yaml = std::fs::read_to_string(&bu).unwrap();
        let name = bu.file_name().unwrap().to_string_lossy().into_owned();
        let ours = translate_yaml(&name, &yaml, &opts()).unwrap_or_else(|e| panic!("{e}"));
        let official: Value =
            serde_json::from_str(&std::fs::read_to_string(bu.with_extension("ign")).unwrap())
                .unwrap();
        assert_eq!(normalized(&ours), normalized(&official), "{name}");
        let text = to_json_string(&ours);
        validate(&text).unwrap_or_else(|e| panic!("{name}: our output does not validate: {e}"));
        let again = to_json_string(&translate_yaml(&name, &yaml, &opts()).unwrap());
        assert_eq!(text, again, "{name}: output is not deterministic");
    }
}

#[test]
fn small_contents_are_encoded_as_butane_does() {
    let ours = translate_yaml(
        "",
        &std::fs::read_to_string(fixtures().join("02-nat-gateway.bu")).unwrap(),
        &opts(),
    )
    .unwrap();
    let source = ours.pointer("/storage/files/0/contents/source").unwrap();
    assert_eq!(source, "data:,net.ipv4.ip_forward%20%3D%201%0A");
}

/// Where the official tool placed the problem that made it refuse a config.
#[derive(Debug, Default)]
struct Official {
    /// `error at PATH, line L col C` (path empty when it gave none).
    place: Option<(String, Option<usize>, Option<usize>)>,
    /// go-yaml's line of a YAML syntax error (0-based line of the collection
    /// being parsed).
    syntax_line: Option<usize>,
    /// go-yaml's line of a value of the wrong type.
    type_line: Option<usize>,
    /// The message, for refusals with no place at all.
    message: String,
}

/// Reads the official tool's `--raw-errors` output: its first error, or in
/// strict mode its first warning.
fn parse_err(text: &str) -> Official {
    let lines: Vec<&str> = text.lines().collect();
    let first_of = |kind: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{kind} at ")) || l.starts_with(&format!("{kind}: ")))
    };
    let mut official = Official::default();
    if let Some(line) = first_of("error").or_else(|| first_of("warning")) {
        let rest = line.split_once(' ').unwrap().1;
        let (place, message) = rest.split_once(": ").unwrap();
        official.message = message.to_owned();
        let place = place.strip_prefix("at ").unwrap_or("");
        let (path, position) = match place.split_once(", ") {
            Some((path, position)) => (path, Some(position)),
            None if place.starts_with("line ") => ("", Some(place)),
            None => (place, None),
        };
        let (line, column) = match position.and_then(|p| p.strip_prefix("line ")) {
            Some(p) => {
                let (l, c) = p.split_once(" col ").unwrap();
                (l.parse().ok(), c.parse().ok())
            }
            None => (None, None),
        };
        official.place = Some((path.to_owned(), line, column));
    } else if let Some(i) = lines.iter().position(|l| l.ends_with("unmarshal errors:")) {
        let detail = lines[i + 1].trim().strip_prefix("line ").unwrap();
        official.type_line = detail.split(':').next().and_then(|n| n.parse().ok());
    } else if let Some(rest) = lines[0].split("yaml: line ").nth(1) {
        official.syntax_line = rest.split(':').next().and_then(|n| n.parse().ok());
    } else {
        official.message = lines[0]
            .trim_start_matches("Error translating config: ")
            .to_owned();
    }
    official
}

/// `err` is the problem the official tool reported (as `parse_err` read it).
fn assert_same_problem(name: &str, err: &Error, official: &Official) {
    if let Some((path, line, column)) = &official.place {
        assert_eq!(
            (err.path.as_str(), err.line, err.column),
            (path.as_str(), *line, *column),
            "{name}: {err}"
        );
    } else if let Some(line) = official.type_line {
        assert_eq!(err.line, Some(line), "{name}: {err}");
    } else if let Some(line) = official.syntax_line {
        // go-yaml reports the 0-based line of the collection being parsed;
        // labrun gives the problem's own position and names that collection.
        assert!(err.line.is_some() && err.column.is_some(), "{name}: {err}");
        let context = format!("started at line {}", line + 1);
        assert!(err.message.contains(&context), "{name}: {err}");
    } else {
        assert!(
            err.message.contains(&official.message),
            "{name}: {err} (official: {})",
            official.message
        );
    }
}

#[test]
fn every_invalid_fixture_is_rejected_where_the_official_tool_says() {
    let dir = fixtures().join("invalid");
    let sources = files(&dir, "bu");
    assert!(sources.len() >= 49, "fixtures missing in {}", dir.display());
    let opts = Options {
        files_dir: Some(dir.clone()),
        strict: true,
    };
    for bu in sources {
        let name = bu.file_name().unwrap().to_string_lossy().into_owned();
        let yaml = std::fs::read_to_string(&bu).unwrap();
        let official = parse_err(&std::fs::read_to_string(bu.with_extension("err")).unwrap());
        let err = translate_yaml(&name, &yaml, &opts).expect_err(&name);
        assert_eq!(err.source_name.as_deref(), Some(name.as_str()));
        assert_same_problem(&name, &err, &official);
        assert!(
            err.to_string().starts_with(&format!("{name}: error")),
            "{err}"
        );
    }
}

#[test]
fn error_display() {
    let yaml =
        "variant: fcos\nversion: 1.6.0\nstorage:\n  files:\n    - path: /a\n      mode: 077777\n";
    let err = translate_yaml("node.bu", yaml, &Options::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "node.bu: error at $.storage.files.0.mode, line 6 col 13: illegal file mode"
    );
    let err = translate_yaml("", yaml, &Options::default()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("error at $.storage.files.0.mode")
    );
}

#[test]
fn strictness_checks() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "storage:\n  files:\n    - path: /a\n      mode: 644\n",
            "$.storage.files.0.mode",
            "octal",
        ),
        (
            "storage:\n  directories:\n    - path: /a\n  links:\n    - path: /a\n      target: /b\n",
            "$.storage.links.0",
            "duplicate",
        ),
        (
            "storage:\n  files:\n    - path: /a/../b\n",
            "$.storage.files.0.path",
            "simplified",
        ),
        (
            "storage:\n  files:\n    - path: /a\n      contents:\n        source: ftp://x/y\n",
            "$.storage.files.0.contents.source",
            "scheme",
        ),
        (
            "storage:\n  files:\n    - path: /a\n      contents:\n        source: https://x/y\n        verification:\n          hash: md5-00\n",
            "$.storage.files.0.contents.verification.hash",
            "unrecognized",
        ),
        (
            "storage:\n  files:\n    - path: /a\n      overwrite: true\n",
            "$.storage.files.0.overwrite",
            "overwrite",
        ),
        (
            "storage:\n  files:\n    - path: /a\n      user: {id: 0, name: root}\n",
            "$.storage.files.0.user",
            "both",
        ),
        (
            "storage:\n  files:\n    - path: /a\n      contents:\n        local: x\n",
            "$.storage.files.0.contents.local",
            "files directory",
        ),
        (
            "systemd:\n  units:\n    - name: a.service\n    - name: a.service\n",
            "$.systemd.units.1",
            "duplicate",
        ),
        (
            "systemd:\n  units:\n    - name: a.service\n      dropins:\n        - name: x.txt\n",
            "$.systemd.units.0.dropins.0.name",
            "drop-in",
        ),
        (
            "systemd:\n  units:\n    - name: a.service\n      enabled: maybe\n",
            "$.systemd.units.0.enabled",
            "boolean",
        ),
        (
            "passwd:\n  users:\n    - name: core\n      sshAuthorizedKeys: []\n",
            "$.passwd.users.0.sshAuthorizedKeys",
            "unused key",
        ),
        (
            "storage:\n  filesystems:\n    - device: /dev/xvdb\n      format: xfs\n      path: /opt\n      with_mount_unit: true\n",
            "$.storage.filesystems.0.path",
            "/etc or /var",
        ),
        (
            "boot_device:\n  mirror:\n    devices: [/dev/sda, /dev/sdb]\n",
            "$.boot_device.mirror",
            "layout should be specified",
        ),
        (
            "storage:\n  files: {path: /a}\n",
            "$.storage.files",
            "sequence",
        ),
    ];
    for (body, path, message) in cases {
        let yaml = format!("variant: fcos\nversion: 1.6.0\n{body}");
        let err = translate_yaml("", &yaml, &Options::default()).expect_err(body);
        assert_eq!(err.path, *path, "{body}: {err}");
        assert!(err.message.contains(message), "{body}: {err}");
        assert!(err.line.is_some(), "{err}");
    }
}

#[test]
fn spec_levels_gate_fields() {
    // (fragment, its keys that some specs lack, with the first fcos minor
    // version that knows each)
    let cases: &[(&str, &[(&str, usize)])] = &[
        (
            "storage:\n  files:\n    - path: /a\n      contents:\n        local: motd.txt\n",
            &[("local", 1)],
        ),
        (
            "ignition:\n  proxy:\n    http_proxy: http://p\n",
            &[("proxy", 1)],
        ),
        (
            "storage:\n  filesystems:\n    - device: /dev/sdb\n      format: xfs\n      mount_options: [ro]\n",
            &[("mount_options", 1)],
        ),
        ("storage:\n  trees:\n    - local: tree\n", &[("trees", 1)]),
        (
            "storage:\n  luks:\n    - name: a\n      device: /dev/sdb\n",
            &[("luks", 2)],
        ),
        (
            "storage:\n  disks:\n    - device: /dev/sdb\n      partitions:\n        - number: 1\n          resize: true\n",
            &[("resize", 2)],
        ),
        (
            "boot_device:\n  luks:\n    tpm2: true\n",
            &[("boot_device", 3)],
        ),
        (
            "kernel_arguments:\n  should_exist: [quiet]\n",
            &[("kernel_arguments", 4)],
        ),
        (
            "grub:\n  users:\n    - name: root\n      password_hash: x\n",
            &[("grub", 5)],
        ),
        (
            "systemd:\n  units:\n    - name: a.service\n      contents_local: units/hello.service\n",
            &[("contents_local", 5)],
        ),
        (
            "storage:\n  luks:\n    - name: a\n      device: /dev/sdb\n      clevis:\n        tpm2: true\n      discard: true\n",
            &[("luks", 2), ("discard", 5)],
        ),
        (
            "storage:\n  luks:\n    - name: a\n      device: /dev/sdb\n      cex:\n        enabled: true\n",
            &[("luks", 2), ("cex", 6)],
        ),
        (
            "storage:\n  trees:\n    - local: tree\n      dir_mode: 0755\n",
            &[("trees", 1), ("dir_mode", 7)],
        ),
    ];
    for (fragment, keys) in cases {
        for minor in 0..8 {
            let yaml = format!("variant: fcos\nversion: 1.{minor}.0\n{fragment}");
            let result = translate_yaml("", &yaml, &opts());
            match keys.iter().find(|(_, since)| minor < *since) {
                None => {
                    result.unwrap_or_else(|e| panic!("fcos 1.{minor}: {fragment}: {e}"));
                }
                Some((key, _)) => {
                    let err = result.expect_err(&yaml);
                    assert!(
                        err.message.starts_with(&format!("unused key {key} ")),
                        "fcos 1.{minor}: {err}"
                    );
                }
            }
        }
    }
}

#[test]
fn each_spec_writes_its_ignition_version() {
    for (minor, ignition) in [
        (0, 0),
        (1, 1),
        (2, 2),
        (3, 2),
        (4, 3),
        (5, 4),
        (6, 5),
        (7, 6),
    ] {
        let yaml = format!("variant: fcos\nversion: 1.{minor}.0\n");
        let out = translate_yaml("", &yaml, &opts()).unwrap();
        assert_eq!(
            out,
            json!({"ignition": {"version": format!("3.{ignition}.0")}})
        );
        validate(&to_json_string(&out)).unwrap();
    }
}

#[test]
fn non_strict_mode_returns_warnings() {
    let yaml =
        "variant: fcos\nversion: 1.6.0\nstorage:\n  files:\n    - path: /a\n      mdoe: 0644\n";
    let lax = Options {
        strict: false,
        ..Options::default()
    };
    let t = translate_yaml_with_warnings("", yaml, &lax).unwrap();
    assert_eq!(t.warnings.len(), 1);
    assert_eq!(t.warnings[0].severity, Severity::Warning);
    assert_eq!(t.config["storage"]["files"][0], json!({"path": "/a"}));
}

#[test]
fn yaml_typing_follows_go_yaml() {
    let yaml = "variant: fcos\nversion: 1.6.0\nstorage:\n  files:\n    - path: /a\n      mode: 0o755\n      overwrite: yes\n      contents:\n        inline: 0644\n    - path: /b\n      mode: \"0644\"\n";
    let err = translate_yaml("", yaml, &Options::default()).unwrap_err();
    assert_eq!(
        (err.path.as_str(), err.line),
        ("$.storage.files.1.mode", Some(11))
    );
    let ok = translate_yaml(
        "",
        &yaml[..yaml.find("    - path: /b").unwrap()],
        &Options::default(),
    )
    .unwrap();
    let file = &ok["storage"]["files"][0];
    assert_eq!(file["mode"], 0o755);
    assert_eq!(file["overwrite"], true);
    assert_eq!(normalized(file)["contents"]["source"], "0644");
}

#[test]
fn anchors_and_duplicate_keys() {
    let yaml = "variant: fcos\nversion: 1.6.0\nstorage:\n  files:\n    - &f\n      path: /a\n      mode: 0600\n  directories:\n    - path: /d\n      mode: 0700\n";
    assert!(translate_yaml("", yaml, &Options::default()).is_ok());
    let mut bomb =
        String::from("variant: fcos\nversion: 1.6.0\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
            p = i - 1
        ));
    }
    let err = translate_yaml("", &bomb, &Options::default()).unwrap_err();
    assert!(err.message.contains("aliases"), "{err}");
    let dup = "variant: fcos\nversion: 1.6.0\nversion: 1.5.0\n";
    let err = translate_yaml("", dup, &Options::default()).unwrap_err();
    assert_eq!((err.line, err.column), (Some(3), Some(1)));
}

#[test]
fn translate_value_matches_yaml() {
    let yaml = std::fs::read_to_string(fixtures().join("12-kernel-args-user-group.bu")).unwrap();
    let tree: Value = serde_saphyr::from_str(&yaml.replace("0644", "420")).unwrap();
    let from_value = translate_value(&tree, &opts()).unwrap();
    let from_yaml = translate_yaml("", &yaml, &opts()).unwrap();
    assert_eq!(to_json_string(&from_value), to_json_string(&from_yaml));
    let bad = json!({"variant": "fcos", "version": "1.6.0", "storage": {"files": [{"path": "/a", "mode": "0644"}]}});
    let err = translate_value(&bad, &opts()).unwrap_err();
    assert_eq!(
        (err.path.as_str(), err.line),
        ("$.storage.files.0.mode", None)
    );
    assert_eq!(
        err.to_string(),
        "error at $.storage.files.0.mode: expected an integer, found string \"0644\""
    );
}

#[test]
fn unknown_variant_and_version() {
    for (doc, path) in [
        ("variant: flatcar\nversion: 1.0.0\n", "$.variant"),
        ("variant: fcos\nversion: 1.8.0-experimental\n", "$.version"),
        ("variant: fcos\nversion: 1.6\n", "$.version"),
        ("version: 1.6.0\n", "$.variant"),
        ("", "$"),
        ("- a\n", "$"),
    ] {
        let err = translate_yaml("", doc, &Options::default()).unwrap_err();
        assert_eq!(err.path, path, "{doc:?}: {err}");
    }
}

/// A fresh directory under the system temp dir.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labrun-ignition-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn local_files_stay_inside_files_dir() {
    let yaml = "variant: fcos\nversion: 1.6.0\nstorage:\n  files:\n    - path: /etc/x\n      contents:\n        local: ../README.md\n";
    let err = translate_yaml("", yaml, &opts()).unwrap_err();
    assert_eq!(
        (err.path.as_str(), err.line, err.column),
        ("$.storage.files.0.contents.local", Some(7), Some(16))
    );
    assert!(err.message.contains("outside"), "{err}");
    let inner = yaml.replace("../README.md", "invalid/../motd.txt");
    assert!(translate_yaml("", &inner, &opts()).is_ok());
}

#[test]
fn trees_become_files_and_links() {
    let dir = scratch_dir("tree");
    std::fs::create_dir_all(dir.join("tree/bin")).unwrap();
    std::fs::write(dir.join("tree/a.conf"), "a\n").unwrap();
    std::fs::write(dir.join("tree/bin/run"), "#!/bin/sh\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.join("tree/bin/run"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        std::os::unix::fs::symlink("a.conf", dir.join("tree/b.conf")).unwrap();
    }
    let yaml = "variant: fcos\nversion: 1.6.0\nstorage:\n  files:\n    - path: /etc/app/a.conf\n      mode: 0600\n  trees:\n    - local: tree\n      path: /etc/app\n";
    let o = Options {
        files_dir: Some(dir.clone()),
        strict: true,
    };
    let out = normalized(&translate_yaml("", yaml, &o).unwrap());
    let files = out["storage"]["files"].as_array().unwrap();
    assert_eq!(
        files[0],
        json!({"path": "/etc/app/a.conf", "contents": {"source": "a\n"}, "mode": 0o600})
    );
    assert_eq!(
        files[1],
        json!({"path": "/etc/app/bin/run", "contents": {"source": "#!/bin/sh\n"}, "mode": 0o755})
    );
    #[cfg(unix)]
    assert_eq!(
        out["storage"]["links"][0],
        json!({"path": "/etc/app/b.conf", "target": "a.conf"})
    );
    let taken = yaml.replace("      mode: 0600\n", "      contents:\n        inline: x\n");
    let err = translate_yaml("", &taken, &o).unwrap_err();
    assert_eq!(
        (err.path.as_str(), err.line),
        ("$.storage.trees.0", Some(9))
    );
    let err = translate_yaml("", yaml, &Options::default()).unwrap_err();
    assert!(err.message.contains("files directory"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn local_units_and_ssh_keys() {
    let dir = scratch_dir("local");
    std::fs::write(
        dir.join("keys"),
        "ssh-ed25519 AAAA a\r\n\nssh-ed25519 BBBB b\n",
    )
    .unwrap();
    std::fs::write(dir.join("x.service"), "[Service]\nExecStart=/bin/true\n").unwrap();
    let yaml = "variant: fcos\nversion: 1.6.0\npasswd:\n  users:\n    - name: core\n      ssh_authorized_keys: [ssh-rsa C c]\n      ssh_authorized_keys_local: [keys]\nsystemd:\n  units:\n    - name: x.service\n      contents_local: x.service\n";
    let o = Options {
        files_dir: Some(dir.clone()),
        strict: true,
    };
    let out = translate_yaml("", yaml, &o).unwrap();
    assert_eq!(
        out["passwd"]["users"][0]["sshAuthorizedKeys"],
        json!(["ssh-rsa C c", "ssh-ed25519 AAAA a", "ssh-ed25519 BBBB b"])
    );
    assert_eq!(
        out["systemd"]["units"][0]["contents"],
        "[Service]\nExecStart=/bin/true\n"
    );
    let both = yaml.replace(
        "      contents_local",
        "      contents: x\n      contents_local",
    );
    let err = translate_yaml("", &both, &o).unwrap_err();
    assert_eq!(err.path, "$.systemd.units.0.contents_local");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn mount_units_are_generated() {
    let yaml = "variant: fcos\nversion: 1.6.0\nstorage:\n  filesystems:\n    - device: /dev/disk/by-label/var-lib\n      format: xfs\n      path: /var/lib/containers\n      mount_options: [noatime]\n      with_mount_unit: true\n    - device: /dev/xvdc\n      format: swap\n      with_mount_unit: true\n";
    let out = translate_yaml("", yaml, &Options::default()).unwrap();
    let units = &out["systemd"]["units"];
    assert_eq!(units[0]["name"], "var-lib-containers.mount");
    assert_eq!(
        units[0]["contents"],
        "# Generated by Butane\n[Unit]\nRequires=systemd-fsck@dev-disk-by\\x2dlabel-var\\x2dlib.service\nAfter=systemd-fsck@dev-disk-by\\x2dlabel-var\\x2dlib.service\n\n[Mount]\nWhere=/var/lib/containers\nWhat=/dev/disk/by-label/var-lib\nType=xfs\nOptions=noatime\n\n[Install]\nRequiredBy=local-fs.target"
    );
    assert_eq!(units[1]["name"], "dev-xvdc.swap");
    assert_eq!(units[1]["enabled"], true);
    assert!(
        out["storage"]["filesystems"][0]
            .get("with_mount_unit")
            .is_none()
    );
    let no_format = yaml.replace("      format: swap\n", "");
    let err = translate_yaml("", &no_format, &Options::default()).unwrap_err();
    assert_eq!(err.path, "$.storage.filesystems.1.format");
}

#[test]
fn embedded_ignition_configs_are_validated() {
    // As the official tool does, problems of an inline config are reported at
    // the inline config's own paths, placed at the deepest node of the Butane
    // config on that path (here the root).
    let yaml = "variant: fcos\nversion: 1.6.0\nignition:\n  config:\n    replace:\n      inline: '{\"ignition\": {\"version\": \"3.5.0\"}, \"storage\": {\"files\": [{\"path\": \"rel\"}]}}'\n";
    let err = translate_yaml("", yaml, &Options::default()).unwrap_err();
    assert_eq!(
        (err.path.as_str(), err.line, err.column),
        ("$.storage.files.0.path", Some(1), Some(1))
    );
    assert!(err.message.contains("path not absolute"), "{err}");
    let good = yaml.replace("rel", "/abs");
    let out = translate_yaml("", &good, &Options::default()).unwrap();
    assert!(
        out["ignition"]["config"]["replace"]["source"]
            .as_str()
            .unwrap()
            .starts_with("data:")
    );
    // Another spec's config is not checked, with a warning.
    let other = yaml.replace("3.5.0", "3.1.0");
    let err = translate_yaml("", &other, &Options::default()).unwrap_err();
    assert_eq!(err.path, "$.ignition.config.replace.version");
    assert!(err.message.contains("unkown version"), "{err}");
    let lax = Options {
        strict: false,
        ..Options::default()
    };
    assert!(translate_yaml("", &other, &lax).is_ok());
    // Not JSON at all.
    let broken = yaml.replace("\"storage\"", "storage");
    let err = translate_yaml("", &broken, &Options::default()).unwrap_err();
    assert_eq!((err.path.as_str(), err.line), ("", Some(1)));
}

#[test]
fn validate_accepts_and_rejects() {
    validate(r#"{"ignition":{"version":"3.5.0"}}"#).unwrap();
    let sha = "a".repeat(128);
    let stub = format!(
        r#"{{"ignition":{{"version":"3.4.0","config":{{"replace":{{"source":"https://b.s3.amazonaws.com/x?X-Amz-Signature=1","verification":{{"hash":"sha512-{sha}"}}}}}}}}}}"#
    );
    validate(&stub).unwrap();
    let cases: &[(&str, &str, &str)] = &[
        (
            r#"{"ignition":{"version":"3.9.0"}}"#,
            "$.ignition.version",
            "unsupported",
        ),
        (r#"{"ignition":{}}"#, "$.ignition.version", "not specified"),
        (
            r#"{"ignition":{"version":"3.5.0"},"storage":{"files":[{"path":"/a"},{"path":"/a"}]}}"#,
            "$.storage.files.1",
            "duplicate",
        ),
        (
            r#"{"ignition":{"version":"3.5.0"},"storage":{"files":[{"path":"a"}]}}"#,
            "$.storage.files.0.path",
            "absolute",
        ),
        (
            r#"{"ignition":{"version":"3.5.0"},"storage":{"files":[{"path":"/a","mode":99999}]}}"#,
            "$.storage.files.0.mode",
            "illegal",
        ),
        (
            r#"{"ignition":{"version":"3.5.0"},"storage":{"files":[{"path":"/a","contents":{"source":"https://x","verification":{"hash":"sha256-00"}}}]}}"#,
            "$.storage.files.0.contents.verification.hash",
            "size",
        ),
        (
            r#"{"ignition":{"version":"3.5.0"},"systemd":{"units":[{"name":"x"}]}}"#,
            "$.systemd.units.0.name",
            "extension",
        ),
        (
            r#"{"ignition":{"version":"3.5.0"},"storage":{"files":[{"path":"/a","mdoe":1}]}}"#,
            "$.storage.files.0.mdoe",
            "unused",
        ),
        (
            r#"{"ignition":{"version":"3.3.0"},"storage":{"luks":[{"name":"x","device":"/dev/sda","discard":true}]}}"#,
            "$.storage.luks.0.discard",
            "unused",
        ),
        (
            r#"{"ignition":{"version":"3.5.0"},"passwd":{"users":[{"name":"a","ssh_authorized_keys":[]}]}}"#,
            "$.passwd.users.0.ssh_authorized_keys",
            "unused",
        ),
    ];
    for (json, path, message) in cases {
        let err = validate(json).expect_err(json);
        assert_eq!(err.path, *path, "{json}: {err}");
        assert!(err.message.contains(message), "{json}: {err}");
    }
    let err = validate("{\n  \"ignition\": [\n").unwrap_err();
    assert_eq!(err.line, Some(3));
}

#[test]
fn merge_composes_fragments() {
    let base = json!({
        "variant": "fcos", "version": "1.6.0",
        "storage": {"files": [
            {"path": "/etc/hostname", "mode": 420, "contents": {"inline": "base"}},
            {"path": "/etc/motd", "contents": {"local": "motd.txt"}}
        ]},
        "systemd": {"units": [{"name": "a.service", "enabled": true}]},
        "passwd": {"users": [{"name": "core", "ssh_authorized_keys": ["k1"]}]}
    });
    let fragment = json!({
        "storage": {"files": [
            {"path": "/etc/motd", "contents": {"inline": "role"}},
            {"path": "/etc/role", "contents": {"inline": "control"}}
        ]},
        "systemd": {"units": [{"name": "a.service", "mask": true}, {"name": "b.service"}]},
        "passwd": {"users": [{"name": "core", "ssh_authorized_keys": ["k1", "k2"]}]}
    });
    let merged = merge(&base, &fragment);
    assert_eq!(merged["storage"]["files"].as_array().unwrap().len(), 3);
    assert_eq!(
        merged["storage"]["files"][1]["contents"],
        json!({"inline": "role"})
    );
    assert_eq!(merged["storage"]["files"][0]["mode"], 420);
    assert_eq!(
        merged["systemd"]["units"][0],
        json!({"name": "a.service", "enabled": true, "mask": true})
    );
    assert_eq!(merged["systemd"]["units"][1]["name"], "b.service");
    assert_eq!(
        merged["passwd"]["users"][0]["ssh_authorized_keys"],
        json!(["k1", "k2"])
    );
    translate_value(&merged, &opts()).unwrap();
    assert_eq!(merge(&merged, &json!({})), merged);
    // Lua cannot tell an empty list from an empty table.
    let empty =
        json!({"variant": "fcos", "version": "1.6.0", "storage": {"files": {}}, "passwd": []});
    translate_value(&empty, &opts()).unwrap();
}

/// Edits of a text that keep it mostly YAML-shaped.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    SwapLines(usize, usize),
    DuplicateLine(usize),
    ReplaceValue(usize, String),
    InsertKey(usize, String, String),
}

fn apply(text: &str, edit: &Edit) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let n = lines.len().max(1);
    match edit {
        Edit::Delete(at, len) => {
            let at = at % (chars.len() + 1);
            let end = (at + len).min(chars.len());
            chars[..at].iter().chain(&chars[end..]).collect()
        }
        Edit::Insert(at, s) => {
            let at = at % (chars.len() + 1);
            let mut out: String = chars[..at].iter().collect();
            out.push_str(s);
            out.extend(&chars[at..]);
            out
        }
        Edit::SwapLines(a, b) => {
            if !lines.is_empty() {
                lines.swap(a % n, b % n);
            }
            lines.join("\n")
        }
        Edit::DuplicateLine(a) => {
            if let Some(l) = lines.get(a % n).cloned() {
                lines.insert(a % n, l);
            }
            lines.join("\n")
        }
        Edit::ReplaceValue(a, v) => {
            if let Some(l) = lines.get_mut(a % n)
                && let Some(i) = l.find(": ")
            {
                l.truncate(i + 2);
                l.push_str(v);
            }
            lines.join("\n")
        }
        Edit::InsertKey(a, k, v) => {
            let a = a % n;
            let indent: String = lines
                .get(a)
                .map(|l| {
                    l.chars()
                        .take_while(|c| *c == ' ' || *c == '-')
                        .map(|_| ' ')
                        .collect()
                })
                .unwrap_or_default();
            lines.insert(a, format!("{indent}{k}: {v}"));
            lines.join("\n")
        }
    }
}

fn all_sources() -> Vec<String> {
    let mut sources: Vec<String> = files(&fixtures(), "bu")
        .into_iter()
        .chain(files(&fixtures().join("invalid"), "bu"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    sources.sort();
    sources
}

fn edit() -> impl Strategy<Value = Edit> {
    let word = prop_oneof![
        Just(String::new()),
        "[a-z_]{1,12}",
        "[ -~]{0,16}",
        Just("- ".to_string()),
        Just("{".to_string()),
        Just("[".to_string()),
        Just("&a".to_string()),
        Just("*a".to_string()),
        Just("!!binary".to_string()),
        Just("|".to_string()),
        Just("\t".to_string()),
        Just("0o7777777777777777777777".to_string()),
        Just("null".to_string()),
        Just("\u{feff}é€".to_string()),
    ];
    let key = prop_oneof![
        Just("path".to_string()),
        Just("mode".to_string()),
        Just("contents".to_string()),
        Just("inline".to_string()),
        Just("local".to_string()),
        Just("source".to_string()),
        Just("trees".to_string()),
        Just("with_mount_unit".to_string()),
        Just("units".to_string()),
        Just("version".to_string()),
        "[a-z_]{1,10}",
    ];
    prop_oneof![
        (any::<usize>(), 0usize..20).prop_map(|(a, l)| Edit::Delete(a, l)),
        (any::<usize>(), word.clone()).prop_map(|(a, s)| Edit::Insert(a, s)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), word.clone()).prop_map(|(a, s)| Edit::ReplaceValue(a, s)),
        (any::<usize>(), key, word).prop_map(|(a, k, v)| Edit::InsertKey(a, k, v)),
    ]
}

/// Runs `check` on `cases` values of `strategy` (a panic fails the test, with
/// the shrunk input) and prints how many ran.
fn fuzz<S: Strategy>(name: &str, cases: u32, strategy: S, check: impl Fn(S::Value)) {
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let ran = AtomicUsize::new(0);
    // The same cases every run, so CI never fails by chance; a panic found
    // with another seed becomes a test of its own.
    let rng = proptest::test_runner::TestRng::deterministic_rng(config.rng_algorithm);
    proptest::test_runner::TestRunner::new_with_rng(config, rng)
        .run(&strategy, |v| {
            check(v);
            ran.fetch_add(1, Ordering::Relaxed);
            Ok(())
        })
        .unwrap();
    println!(
        "fuzz {name}: {} cases ran without panic",
        ran.load(Ordering::Relaxed)
    );
}

#[test]
fn mutated_fixtures_never_panic() {
    let sources = all_sources();
    let lax = Options {
        files_dir: Some(fixtures()),
        strict: false,
    };
    let strategy = (any::<usize>(), proptest::collection::vec(edit(), 1..6));
    fuzz("mutated fixtures", 6000, strategy, |(pick, edits)| {
        let mut text = sources[pick % sources.len()].clone();
        for e in &edits {
            text = apply(&text, e);
        }
        let _ = translate_yaml("fuzz.bu", &text, &opts());
        if let Ok(t) = translate_yaml_with_warnings("fuzz.bu", &text, &lax) {
            let _ = validate(&to_json_string(&t.config));
        }
    });
}

#[test]
fn random_text_never_panics() {
    fuzz("random text", 3000, "(?s).{0,300}", |text: String| {
        let _ = translate_yaml("", &text, &opts());
        let _ = validate(&text);
    });
}

#[test]
fn random_trees_never_panic() {
    let strategy = (0..8usize, arb_json());
    fuzz("random trees", 3000, strategy, |(minor, tree)| {
        let version = format!("1.{minor}.0");
        let mut config = json!({"variant": "fcos", "version": version});
        let section = ["storage", "boot_device", "systemd", "passwd"][minor % 4];
        config[section] = tree.clone();
        let _ = translate_value(&config, &opts());
        let _ = translate_value(&tree, &opts());
        let _ = merge(&config, &tree);
        let ignition = format!("3.{}.0", minor.saturating_sub(usize::from(minor > 2)));
        let _ = validate(&json!({"ignition": {"version": ignition}, "storage": tree}).to_string());
    });
}

fn arb_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("files".to_string()),
        Just("path".to_string()),
        Just("mode".to_string()),
        Just("contents".to_string()),
        Just("inline".to_string()),
        Just("links".to_string()),
        Just("target".to_string()),
        Just("filesystems".to_string()),
        Just("with_mount_unit".to_string()),
        Just("format".to_string()),
        Just("device".to_string()),
        Just("luks".to_string()),
        Just("tang".to_string()),
        Just("mirror".to_string()),
        Just("devices".to_string()),
        Just("layout".to_string()),
        Just("trees".to_string()),
        Just("partitions".to_string()),
        Just("label".to_string()),
        "[a-z]{1,6}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "/?[a-z/.]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((key.clone(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

#[test]
fn a_source_with_a_character_across_its_fifth_byte_is_refused_not_a_panic() {
    // Found by mutated_fixtures_never_panic: the data: check cut inside 'é'.
    let doc = json!({
        "ignition": { "version": "3.4.0" },
        "storage": { "files": [{
            "path": "/etc/app.conf",
            "contents": { "source": "a\u{feff}é€rn:aws:s3:::lab-bucket/config/app.conf" }
        }] }
    });
    let err = validate(&doc.to_string()).unwrap_err();
    assert!(
        err.to_string().contains("storage.files.0.contents.source"),
        "{err}"
    );
}

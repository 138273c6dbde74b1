//! The shape of Butane fcos 1.0–1.7 and Ignition 3.0–3.6 configs in one table.
//!
//! Each field has its Butane (snake_case) and Ignition (camelCase) name; a field
//! with only a Butane name is a Butane extension (`inline`, `local`, `trees`,
//! `boot_device`…) that translation turns into Ignition fields, one with only
//! an Ignition name (`ignition.version`) is generated. A field exists from
//! level `since` up to, not including, level `until` (see `spec`). Fields are
//! listed in Ignition's order, which is the order of the output and of
//! validation.

use super::spec::{
    FCOS_1_1, FCOS_1_3, FCOS_1_5, FCOS_1_6, FCOS_1_7, IGN_3_1, IGN_3_2, IGN_3_3, IGN_3_4, IGN_3_5,
    Level, NEVER,
};

/// Input dialect of a tree walked against the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Butane,
    Ignition,
}

pub(crate) enum Ty {
    Str,
    Int,
    Bool,
    List(&'static Ty),
    Obj(&'static Obj),
}

/// Objects whose translation or checks need more than renaming fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hook {
    None,
    Root,
    Resource,
    File,
    Directory,
    Unit,
    User,
    Filesystem,
    Tree,
    BootDevice,
    GrubUser,
}

/// What identifies an entry of a list of these objects (Ignition's `Key()`),
/// for duplicate checks and merging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    /// Butane-only objects, never merged or checked.
    None,
    /// The value of this string field, "" when unset.
    Field(&'static str),
    /// `number:N`, else `label:L`, else "".
    Partition,
}

/// How a list merges and is checked for duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListRule {
    /// Entries are identified by their key: no duplicates; merging merges
    /// entries with the same key.
    Keyed,
    /// Entries are kept as they are: duplicates allowed, merging appends.
    Appended,
    /// Keyed, sharing one namespace of keys with the other lists of the same
    /// object that have this name (files, directories and links by path).
    Shared(&'static str),
}

/// What an unset Go value field (not a pointer) is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unset {
    Empty,
    Null,
}

pub(crate) struct Obj {
    pub hook: Hook,
    pub key: Key,
    pub fields: &'static [Field],
}

pub(crate) struct Field {
    pub butane: Option<&'static str>,
    pub ignition: Option<&'static str>,
    pub ty: Ty,
    pub since: Level,
    pub until: Level,
    /// A Go value field without `omitempty`: written even when unset, as
    /// this, below level `plain_until`.
    pub unset: Option<Unset>,
    pub plain_until: Level,
    /// A Go value field with `omitempty`: its zero (0, "") is not written.
    pub omit_zero: bool,
    pub list: ListRule,
    /// A Go pointer to a struct (spec 3.2's clevis): `{}` is written below
    /// this level.
    pub keep_empty_until: Level,
}

impl Field {
    pub fn name(&self, dialect: Dialect) -> Option<&'static str> {
        match dialect {
            Dialect::Butane => self.butane,
            Dialect::Ignition => self.ignition,
        }
    }

    pub fn exists(&self, level: Level) -> bool {
        self.since <= level && level < self.until
    }

    /// Whether this is a Go value field at `level`: merging takes the
    /// child's value even when it is unset.
    pub fn plain(&self, level: Level) -> bool {
        self.omit_zero || (self.unset.is_some() && level < self.plain_until)
    }

    /// What the field is written as when unset at `level`.
    pub fn unset_at(&self, level: Level) -> Option<Unset> {
        self.unset.filter(|_| level < self.plain_until)
    }

    const fn new(butane: Option<&'static str>, ignition: Option<&'static str>, ty: Ty) -> Field {
        Field {
            butane,
            ignition,
            ty,
            since: 0,
            until: NEVER,
            unset: None,
            plain_until: NEVER,
            omit_zero: false,
            list: ListRule::Keyed,
            keep_empty_until: 0,
        }
    }

    const fn since(mut self, level: Level) -> Field {
        self.since = level;
        self
    }

    const fn until(mut self, level: Level) -> Field {
        self.until = level;
        self
    }

    /// A Go string value field without `omitempty`.
    const fn always(self) -> Field {
        self.always_until(NEVER)
    }

    const fn always_until(mut self, level: Level) -> Field {
        self.unset = Some(Unset::Empty);
        self.plain_until = level;
        self
    }

    /// A Go pointer field without `omitempty`: `null` when unset.
    const fn null_until(mut self, level: Level) -> Field {
        self.unset = Some(Unset::Null);
        self.plain_until = level;
        self
    }

    const fn omit_zero(mut self) -> Field {
        self.omit_zero = true;
        self
    }

    const fn appended(mut self) -> Field {
        self.list = ListRule::Appended;
        self
    }

    const fn shared(mut self, handle: &'static str) -> Field {
        self.list = ListRule::Shared(handle);
        self
    }

    const fn keep_empty_until(mut self, level: Level) -> Field {
        self.keep_empty_until = level;
        self
    }
}

/// A field with the same name in both dialects.
const fn same(name: &'static str, ty: Ty) -> Field {
    Field::new(Some(name), Some(name), ty)
}

/// A field renamed between the dialects.
const fn renamed(butane: &'static str, ignition: &'static str, ty: Ty) -> Field {
    Field::new(Some(butane), Some(ignition), ty)
}

/// A Butane-only field.
const fn butane(name: &'static str, ty: Ty) -> Field {
    Field::new(Some(name), None, ty)
}

const STRS: Ty = Ty::List(&Ty::Str);

const fn obj(hook: Hook, key: Key, fields: &'static [Field]) -> Obj {
    Obj { hook, key, fields }
}

static VERIFICATION: Obj = obj(Hook::None, Key::None, &[same("hash", Ty::Str)]);
pub(crate) static HEADER: Obj = obj(
    Hook::None,
    Key::Field("name"),
    &[same("name", Ty::Str).always(), same("value", Ty::Str)],
);
/// A resource (file contents, merged config, CA…), Ignition 3.1 on.
pub(crate) static RESOURCE: Obj = obj(
    Hook::Resource,
    Key::Field("source"),
    &[
        same("compression", Ty::Str),
        renamed("http_headers", "httpHeaders", Ty::List(&Ty::Obj(&HEADER))),
        same("source", Ty::Str),
        same("verification", Ty::Obj(&VERIFICATION)),
        butane("inline", Ty::Str),
        butane("local", Ty::Str),
    ],
);
/// File contents in Ignition 3.0.
static FILE_CONTENTS_3_0: Obj = obj(
    Hook::Resource,
    Key::Field("source"),
    &[
        same("compression", Ty::Str),
        same("source", Ty::Str),
        same("verification", Ty::Obj(&VERIFICATION)),
        butane("inline", Ty::Str),
    ],
);
/// A merged or replacing config in Ignition 3.0.
static CONFIG_REFERENCE_3_0: Obj = obj(
    Hook::None,
    Key::Field("source"),
    &[
        same("source", Ty::Str).null_until(NEVER),
        same("verification", Ty::Obj(&VERIFICATION)),
    ],
);
/// A certificate authority in Ignition 3.0.
static CA_REFERENCE_3_0: Obj = obj(
    Hook::None,
    Key::Field("source"),
    &[
        same("source", Ty::Str).always(),
        same("verification", Ty::Obj(&VERIFICATION)),
    ],
);
static OWNER: Obj = obj(
    Hook::None,
    Key::None,
    &[same("id", Ty::Int), same("name", Ty::Str)],
);

pub(crate) static FILE: Obj = obj(
    Hook::File,
    Key::Field("path"),
    &[
        same("group", Ty::Obj(&OWNER)),
        same("overwrite", Ty::Bool),
        same("path", Ty::Str).always(),
        same("user", Ty::Obj(&OWNER)),
        same("append", Ty::List(&Ty::Obj(&FILE_CONTENTS_3_0)))
            .until(IGN_3_1)
            .appended(),
        same("append", Ty::List(&Ty::Obj(&RESOURCE)))
            .since(IGN_3_1)
            .appended(),
        same("contents", Ty::Obj(&FILE_CONTENTS_3_0)).until(IGN_3_1),
        same("contents", Ty::Obj(&RESOURCE)).since(IGN_3_1),
        same("mode", Ty::Int),
    ],
);
pub(crate) static DIRECTORY: Obj = obj(
    Hook::Directory,
    Key::Field("path"),
    &[
        same("group", Ty::Obj(&OWNER)),
        same("overwrite", Ty::Bool),
        same("path", Ty::Str).always(),
        same("user", Ty::Obj(&OWNER)),
        same("mode", Ty::Int),
    ],
);
pub(crate) static LINK: Obj = obj(
    Hook::None,
    Key::Field("path"),
    &[
        same("group", Ty::Obj(&OWNER)),
        same("overwrite", Ty::Bool),
        same("path", Ty::Str).always(),
        same("user", Ty::Obj(&OWNER)),
        same("hard", Ty::Bool),
        same("target", Ty::Str).always_until(IGN_3_3),
    ],
);
static PARTITION: Obj = obj(
    Hook::None,
    Key::Partition,
    &[
        same("guid", Ty::Str),
        same("label", Ty::Str),
        same("number", Ty::Int).omit_zero(),
        same("resize", Ty::Bool).since(IGN_3_2),
        renamed("should_exist", "shouldExist", Ty::Bool),
        renamed("size_mib", "sizeMiB", Ty::Int),
        renamed("start_mib", "startMiB", Ty::Int),
        renamed("type_guid", "typeGuid", Ty::Str),
        renamed("wipe_partition_entry", "wipePartitionEntry", Ty::Bool),
    ],
);
static DISK: Obj = obj(
    Hook::None,
    Key::Field("device"),
    &[
        same("device", Ty::Str).always(),
        same("partitions", Ty::List(&Ty::Obj(&PARTITION))),
        renamed("wipe_table", "wipeTable", Ty::Bool),
    ],
);
static FILESYSTEM: Obj = obj(
    Hook::Filesystem,
    Key::Field("device"),
    &[
        same("device", Ty::Str).always(),
        same("format", Ty::Str),
        same("label", Ty::Str),
        renamed("mount_options", "mountOptions", STRS)
            .since(IGN_3_1)
            .appended(),
        same("options", STRS).appended(),
        same("path", Ty::Str),
        same("uuid", Ty::Str),
        renamed("wipe_filesystem", "wipeFilesystem", Ty::Bool),
        butane("with_mount_unit", Ty::Bool).since(FCOS_1_1),
    ],
);
static CEX: Obj = obj(Hook::None, Key::None, &[same("enabled", Ty::Bool)]);
static TANG: Obj = obj(
    Hook::None,
    Key::Field("url"),
    &[
        same("advertisement", Ty::Str).since(IGN_3_4),
        same("thumbprint", Ty::Str),
        same("url", Ty::Str).omit_zero(),
    ],
);
static CLEVIS_CUSTOM: Obj = obj(
    Hook::None,
    Key::None,
    &[
        same("config", Ty::Str).always_until(IGN_3_3),
        renamed("needs_network", "needsNetwork", Ty::Bool),
        same("pin", Ty::Str).always_until(IGN_3_3),
    ],
);
static CLEVIS: Obj = obj(
    Hook::None,
    Key::None,
    &[
        same("custom", Ty::Obj(&CLEVIS_CUSTOM)).keep_empty_until(IGN_3_3),
        same("tang", Ty::List(&Ty::Obj(&TANG))),
        same("threshold", Ty::Int),
        same("tpm2", Ty::Bool),
    ],
);
static LUKS: Obj = obj(
    Hook::None,
    Key::Field("name"),
    &[
        same("cex", Ty::Obj(&CEX)).since(IGN_3_5),
        same("clevis", Ty::Obj(&CLEVIS)).keep_empty_until(IGN_3_3),
        same("device", Ty::Str),
        same("discard", Ty::Bool).since(IGN_3_4),
        renamed("key_file", "keyFile", Ty::Obj(&RESOURCE)),
        same("label", Ty::Str),
        same("name", Ty::Str).always(),
        renamed("open_options", "openOptions", STRS).since(IGN_3_4),
        same("options", STRS).appended(),
        same("uuid", Ty::Str),
        renamed("wipe_volume", "wipeVolume", Ty::Bool),
    ],
);
static RAID: Obj = obj(
    Hook::None,
    Key::Field("name"),
    &[
        same("devices", STRS).null_until(IGN_3_3),
        same("level", Ty::Str).always_until(IGN_3_3),
        same("name", Ty::Str).always(),
        same("options", STRS).appended(),
        same("spares", Ty::Int),
    ],
);
static TREE: Obj = obj(
    Hook::Tree,
    Key::None,
    &[
        same("group", Ty::Obj(&OWNER)).since(FCOS_1_7),
        same("local", Ty::Str),
        same("path", Ty::Str),
        same("user", Ty::Obj(&OWNER)).since(FCOS_1_7),
        same("file_mode", Ty::Int).since(FCOS_1_7),
        same("dir_mode", Ty::Int).since(FCOS_1_7),
    ],
);
pub(crate) static STORAGE: Obj = obj(
    Hook::None,
    Key::None,
    &[
        same("directories", Ty::List(&Ty::Obj(&DIRECTORY))).shared("node"),
        same("disks", Ty::List(&Ty::Obj(&DISK))),
        same("files", Ty::List(&Ty::Obj(&FILE))).shared("node"),
        same("filesystems", Ty::List(&Ty::Obj(&FILESYSTEM))),
        same("links", Ty::List(&Ty::Obj(&LINK))).shared("node"),
        same("luks", Ty::List(&Ty::Obj(&LUKS))).since(IGN_3_2),
        same("raid", Ty::List(&Ty::Obj(&RAID))),
        butane("trees", Ty::List(&Ty::Obj(&TREE))).since(FCOS_1_1),
    ],
);
static DROPIN: Obj = obj(
    Hook::Unit,
    Key::Field("name"),
    &[
        same("contents", Ty::Str),
        butane("contents_local", Ty::Str).since(FCOS_1_5),
        same("name", Ty::Str).always(),
    ],
);
static UNIT: Obj = obj(
    Hook::Unit,
    Key::Field("name"),
    &[
        same("contents", Ty::Str),
        butane("contents_local", Ty::Str).since(FCOS_1_5),
        same("dropins", Ty::List(&Ty::Obj(&DROPIN))),
        same("enabled", Ty::Bool),
        same("mask", Ty::Bool),
        same("name", Ty::Str).always(),
    ],
);
static SYSTEMD: Obj = obj(
    Hook::None,
    Key::None,
    &[same("units", Ty::List(&Ty::Obj(&UNIT)))],
);
static GROUP: Obj = obj(
    Hook::None,
    Key::Field("name"),
    &[
        same("gid", Ty::Int),
        same("name", Ty::Str).always(),
        renamed("password_hash", "passwordHash", Ty::Str),
        renamed("should_exist", "shouldExist", Ty::Bool).since(IGN_3_2),
        same("system", Ty::Bool),
    ],
);
static USER: Obj = obj(
    Hook::User,
    Key::Field("name"),
    &[
        same("gecos", Ty::Str),
        same("groups", STRS),
        renamed("home_dir", "homeDir", Ty::Str),
        same("name", Ty::Str).always(),
        renamed("no_create_home", "noCreateHome", Ty::Bool),
        renamed("no_log_init", "noLogInit", Ty::Bool),
        renamed("no_user_group", "noUserGroup", Ty::Bool),
        renamed("password_hash", "passwordHash", Ty::Str),
        renamed("primary_group", "primaryGroup", Ty::Str),
        renamed("ssh_authorized_keys", "sshAuthorizedKeys", STRS),
        butane("ssh_authorized_keys_local", STRS).since(FCOS_1_5),
        same("shell", Ty::Str),
        renamed("should_exist", "shouldExist", Ty::Bool).since(IGN_3_2),
        same("system", Ty::Bool),
        same("uid", Ty::Int),
    ],
);
static PASSWD: Obj = obj(
    Hook::None,
    Key::None,
    &[
        same("groups", Ty::List(&Ty::Obj(&GROUP))),
        same("users", Ty::List(&Ty::Obj(&USER))),
    ],
);
static KERNEL_ARGUMENTS: Obj = obj(
    Hook::None,
    Key::None,
    &[
        renamed("should_exist", "shouldExist", STRS).shared("karg"),
        renamed("should_not_exist", "shouldNotExist", STRS).shared("karg"),
    ],
);
static IGNITION_CONFIG: Obj = obj(
    Hook::None,
    Key::None,
    &[
        same("merge", Ty::List(&Ty::Obj(&CONFIG_REFERENCE_3_0))).until(IGN_3_1),
        same("merge", Ty::List(&Ty::Obj(&RESOURCE))).since(IGN_3_1),
        same("replace", Ty::Obj(&CONFIG_REFERENCE_3_0)).until(IGN_3_1),
        same("replace", Ty::Obj(&RESOURCE)).since(IGN_3_1),
    ],
);
static PROXY: Obj = obj(
    Hook::None,
    Key::None,
    &[
        renamed("http_proxy", "httpProxy", Ty::Str),
        renamed("https_proxy", "httpsProxy", Ty::Str),
        renamed("no_proxy", "noProxy", STRS),
    ],
);
static TLS: Obj = obj(
    Hook::None,
    Key::None,
    &[
        renamed(
            "certificate_authorities",
            "certificateAuthorities",
            Ty::List(&Ty::Obj(&CA_REFERENCE_3_0)),
        )
        .until(IGN_3_1),
        renamed(
            "certificate_authorities",
            "certificateAuthorities",
            Ty::List(&Ty::Obj(&RESOURCE)),
        )
        .since(IGN_3_1),
    ],
);
static SECURITY: Obj = obj(Hook::None, Key::None, &[same("tls", Ty::Obj(&TLS))]);
static TIMEOUTS: Obj = obj(
    Hook::None,
    Key::None,
    &[
        renamed("http_response_headers", "httpResponseHeaders", Ty::Int),
        renamed("http_total", "httpTotal", Ty::Int),
    ],
);
static IGNITION: Obj = obj(
    Hook::None,
    Key::None,
    &[
        same("config", Ty::Obj(&IGNITION_CONFIG)),
        same("proxy", Ty::Obj(&PROXY)).since(IGN_3_1),
        same("security", Ty::Obj(&SECURITY)),
        same("timeouts", Ty::Obj(&TIMEOUTS)),
        Field::new(None, Some("version"), Ty::Str),
    ],
);
static BOOT_DEVICE_LUKS: Obj = obj(
    Hook::None,
    Key::None,
    &[
        same("cex", Ty::Obj(&CEX)).since(FCOS_1_6),
        same("discard", Ty::Bool).since(FCOS_1_5),
        same("device", Ty::Str).since(FCOS_1_6),
        same("tang", Ty::List(&Ty::Obj(&TANG))),
        same("threshold", Ty::Int),
        same("tpm2", Ty::Bool),
    ],
);
static MIRROR: Obj = obj(Hook::None, Key::None, &[same("devices", STRS)]);
static BOOT_DEVICE: Obj = obj(
    Hook::BootDevice,
    Key::None,
    &[
        same("layout", Ty::Str),
        same("luks", Ty::Obj(&BOOT_DEVICE_LUKS)),
        same("mirror", Ty::Obj(&MIRROR)),
    ],
);
static GRUB_USER: Obj = obj(
    Hook::GrubUser,
    Key::None,
    &[same("name", Ty::Str), same("password_hash", Ty::Str)],
);
static GRUB: Obj = obj(
    Hook::None,
    Key::None,
    &[same("users", Ty::List(&Ty::Obj(&GRUB_USER)))],
);

/// The root of a Butane fcos config and of an Ignition config.
pub(crate) static ROOT: Obj = obj(
    Hook::Root,
    Key::None,
    &[
        butane("variant", Ty::Str),
        butane("version", Ty::Str),
        same("ignition", Ty::Obj(&IGNITION)),
        renamed(
            "kernel_arguments",
            "kernelArguments",
            Ty::Obj(&KERNEL_ARGUMENTS),
        )
        .since(IGN_3_3),
        same("passwd", Ty::Obj(&PASSWD)),
        same("storage", Ty::Obj(&STORAGE)),
        same("systemd", Ty::Obj(&SYSTEMD)),
        butane("boot_device", Ty::Obj(&BOOT_DEVICE)).since(FCOS_1_3),
        butane("grub", Ty::Obj(&GRUB)).since(FCOS_1_5),
    ],
);

/// The key of an entry of a list of `ty` (Ignition's `Key()`).
pub(crate) fn entry_key<'v>(ty: &Ty, entry: &'v serde_json::Value) -> std::borrow::Cow<'v, str> {
    use serde_json::Value;
    use std::borrow::Cow;
    let text = |k: &str| Cow::Borrowed(entry.get(k).and_then(Value::as_str).unwrap_or(""));
    match ty {
        Ty::Obj(obj) => match obj.key {
            Key::Field(k) => text(k),
            Key::Partition => match entry.get("number").and_then(Value::as_i64) {
                Some(n) if n != 0 => Cow::Owned(format!("number:{n}")),
                _ => match entry.get("label").and_then(Value::as_str) {
                    Some(l) => Cow::Owned(format!("label:{l}")),
                    None => Cow::Borrowed(""),
                },
            },
            Key::None => Cow::Borrowed(""),
        },
        _ => match entry {
            Value::String(s) => Cow::Borrowed(s),
            other => Cow::Owned(other.to_string()),
        },
    }
}

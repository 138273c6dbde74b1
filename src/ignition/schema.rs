//! The shape of Butane fcos 1.4–1.6 and Ignition 3.3–3.5 configs in one table.
//!
//! Each field has its Butane (snake_case) and Ignition (camelCase) name; a field
//! with only a Butane name is a Butane extension (`inline`, `local`, `trees`,
//! `with_mount_unit`…) that translation turns into Ignition fields, one with
//! only an Ignition name (`ignition.version`) is generated. `since` is the spec
//! level a field appeared in: 0 for fcos 1.4.0 / Ignition 3.3.0, 1 for 1.5.0 /
//! 3.4.0, 2 for 1.6.0 / 3.5.0. Fields are listed in Ignition's order, which is
//! the order of the output.

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
    /// A Butane section labrun recognises but does not translate.
    Unsupported,
}

/// Objects whose translation needs more than renaming fields.
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
}

pub(crate) struct Obj {
    pub hook: Hook,
    pub fields: &'static [Field],
}

pub(crate) struct Field {
    pub butane: Option<&'static str>,
    pub ignition: Option<&'static str>,
    pub ty: Ty,
    pub since: u8,
}

impl Field {
    pub fn name(&self, dialect: Dialect) -> Option<&'static str> {
        match dialect {
            Dialect::Butane => self.butane,
            Dialect::Ignition => self.ignition,
        }
    }
}

/// A field with the same name in both dialects.
const fn same(name: &'static str, ty: Ty) -> Field {
    Field {
        butane: Some(name),
        ignition: Some(name),
        ty,
        since: 0,
    }
}

/// A field renamed between the dialects.
const fn renamed(butane: &'static str, ignition: &'static str, ty: Ty) -> Field {
    Field {
        butane: Some(butane),
        ignition: Some(ignition),
        ty,
        since: 0,
    }
}

/// A Butane-only field.
const fn butane(name: &'static str, ty: Ty) -> Field {
    Field {
        butane: Some(name),
        ignition: None,
        ty,
        since: 0,
    }
}

const fn since(mut f: Field, level: u8) -> Field {
    f.since = level;
    f
}

const STRS: Ty = Ty::List(&Ty::Str);

const fn obj(hook: Hook, fields: &'static [Field]) -> Obj {
    Obj { hook, fields }
}

static VERIFICATION: Obj = obj(Hook::None, &[same("hash", Ty::Str)]);
static HEADER: Obj = obj(Hook::None, &[same("name", Ty::Str), same("value", Ty::Str)]);
pub(crate) static RESOURCE: Obj = obj(
    Hook::Resource,
    &[
        same("compression", Ty::Str),
        renamed("http_headers", "httpHeaders", Ty::List(&Ty::Obj(&HEADER))),
        same("source", Ty::Str),
        same("verification", Ty::Obj(&VERIFICATION)),
        butane("inline", Ty::Str),
        butane("local", Ty::Str),
    ],
);
static OWNER: Obj = obj(Hook::None, &[same("id", Ty::Int), same("name", Ty::Str)]);

static FILE: Obj = obj(
    Hook::File,
    &[
        same("group", Ty::Obj(&OWNER)),
        same("overwrite", Ty::Bool),
        same("path", Ty::Str),
        same("user", Ty::Obj(&OWNER)),
        same("append", Ty::List(&Ty::Obj(&RESOURCE))),
        same("contents", Ty::Obj(&RESOURCE)),
        same("mode", Ty::Int),
    ],
);
static DIRECTORY: Obj = obj(
    Hook::Directory,
    &[
        same("group", Ty::Obj(&OWNER)),
        same("overwrite", Ty::Bool),
        same("path", Ty::Str),
        same("user", Ty::Obj(&OWNER)),
        same("mode", Ty::Int),
    ],
);
static LINK: Obj = obj(
    Hook::None,
    &[
        same("group", Ty::Obj(&OWNER)),
        same("overwrite", Ty::Bool),
        same("path", Ty::Str),
        same("user", Ty::Obj(&OWNER)),
        same("hard", Ty::Bool),
        same("target", Ty::Str),
    ],
);
static PARTITION: Obj = obj(
    Hook::None,
    &[
        same("guid", Ty::Str),
        same("label", Ty::Str),
        same("number", Ty::Int),
        same("resize", Ty::Bool),
        renamed("should_exist", "shouldExist", Ty::Bool),
        renamed("size_mib", "sizeMiB", Ty::Int),
        renamed("start_mib", "startMiB", Ty::Int),
        renamed("type_guid", "typeGuid", Ty::Str),
        renamed("wipe_partition_entry", "wipePartitionEntry", Ty::Bool),
    ],
);
static DISK: Obj = obj(
    Hook::None,
    &[
        same("device", Ty::Str),
        same("partitions", Ty::List(&Ty::Obj(&PARTITION))),
        renamed("wipe_table", "wipeTable", Ty::Bool),
    ],
);
static FILESYSTEM: Obj = obj(
    Hook::Filesystem,
    &[
        same("device", Ty::Str),
        same("format", Ty::Str),
        same("label", Ty::Str),
        renamed("mount_options", "mountOptions", STRS),
        same("options", STRS),
        same("path", Ty::Str),
        same("uuid", Ty::Str),
        renamed("wipe_filesystem", "wipeFilesystem", Ty::Bool),
        butane("with_mount_unit", Ty::Bool),
    ],
);
static CEX: Obj = obj(Hook::None, &[same("enabled", Ty::Bool)]);
static TANG: Obj = obj(
    Hook::None,
    &[
        since(same("advertisement", Ty::Str), 1),
        same("thumbprint", Ty::Str),
        same("url", Ty::Str),
    ],
);
static CLEVIS_CUSTOM: Obj = obj(
    Hook::None,
    &[
        same("config", Ty::Str),
        renamed("needs_network", "needsNetwork", Ty::Bool),
        same("pin", Ty::Str),
    ],
);
static CLEVIS: Obj = obj(
    Hook::None,
    &[
        same("custom", Ty::Obj(&CLEVIS_CUSTOM)),
        same("tang", Ty::List(&Ty::Obj(&TANG))),
        same("threshold", Ty::Int),
        same("tpm2", Ty::Bool),
    ],
);
static LUKS: Obj = obj(
    Hook::None,
    &[
        since(same("cex", Ty::Obj(&CEX)), 2),
        same("clevis", Ty::Obj(&CLEVIS)),
        same("device", Ty::Str),
        since(same("discard", Ty::Bool), 1),
        renamed("key_file", "keyFile", Ty::Obj(&RESOURCE)),
        same("label", Ty::Str),
        same("name", Ty::Str),
        since(renamed("open_options", "openOptions", STRS), 1),
        same("options", STRS),
        same("uuid", Ty::Str),
        renamed("wipe_volume", "wipeVolume", Ty::Bool),
    ],
);
static RAID: Obj = obj(
    Hook::None,
    &[
        same("devices", STRS),
        same("level", Ty::Str),
        same("name", Ty::Str),
        same("options", STRS),
        same("spares", Ty::Int),
    ],
);
static TREE: Obj = obj(Hook::Tree, &[same("local", Ty::Str), same("path", Ty::Str)]);
static STORAGE: Obj = obj(
    Hook::None,
    &[
        same("directories", Ty::List(&Ty::Obj(&DIRECTORY))),
        same("disks", Ty::List(&Ty::Obj(&DISK))),
        same("files", Ty::List(&Ty::Obj(&FILE))),
        same("filesystems", Ty::List(&Ty::Obj(&FILESYSTEM))),
        same("links", Ty::List(&Ty::Obj(&LINK))),
        same("luks", Ty::List(&Ty::Obj(&LUKS))),
        same("raid", Ty::List(&Ty::Obj(&RAID))),
        butane("trees", Ty::List(&Ty::Obj(&TREE))),
    ],
);
static DROPIN: Obj = obj(
    Hook::Unit,
    &[
        same("contents", Ty::Str),
        since(butane("contents_local", Ty::Str), 1),
        same("name", Ty::Str),
    ],
);
static UNIT: Obj = obj(
    Hook::Unit,
    &[
        same("contents", Ty::Str),
        since(butane("contents_local", Ty::Str), 1),
        same("dropins", Ty::List(&Ty::Obj(&DROPIN))),
        same("enabled", Ty::Bool),
        same("mask", Ty::Bool),
        same("name", Ty::Str),
    ],
);
static SYSTEMD: Obj = obj(Hook::None, &[same("units", Ty::List(&Ty::Obj(&UNIT)))]);
static GROUP: Obj = obj(
    Hook::None,
    &[
        same("gid", Ty::Int),
        same("name", Ty::Str),
        renamed("password_hash", "passwordHash", Ty::Str),
        renamed("should_exist", "shouldExist", Ty::Bool),
        same("system", Ty::Bool),
    ],
);
static USER: Obj = obj(
    Hook::User,
    &[
        same("gecos", Ty::Str),
        same("groups", STRS),
        renamed("home_dir", "homeDir", Ty::Str),
        same("name", Ty::Str),
        renamed("no_create_home", "noCreateHome", Ty::Bool),
        renamed("no_log_init", "noLogInit", Ty::Bool),
        renamed("no_user_group", "noUserGroup", Ty::Bool),
        renamed("password_hash", "passwordHash", Ty::Str),
        renamed("primary_group", "primaryGroup", Ty::Str),
        renamed("ssh_authorized_keys", "sshAuthorizedKeys", STRS),
        since(butane("ssh_authorized_keys_local", STRS), 1),
        same("shell", Ty::Str),
        renamed("should_exist", "shouldExist", Ty::Bool),
        same("system", Ty::Bool),
        same("uid", Ty::Int),
    ],
);
static PASSWD: Obj = obj(
    Hook::None,
    &[
        same("groups", Ty::List(&Ty::Obj(&GROUP))),
        same("users", Ty::List(&Ty::Obj(&USER))),
    ],
);
static KERNEL_ARGUMENTS: Obj = obj(
    Hook::None,
    &[
        renamed("should_exist", "shouldExist", STRS),
        renamed("should_not_exist", "shouldNotExist", STRS),
    ],
);
static IGNITION_CONFIG: Obj = obj(
    Hook::None,
    &[
        same("merge", Ty::List(&Ty::Obj(&RESOURCE))),
        same("replace", Ty::Obj(&RESOURCE)),
    ],
);
static PROXY: Obj = obj(
    Hook::None,
    &[
        renamed("http_proxy", "httpProxy", Ty::Str),
        renamed("https_proxy", "httpsProxy", Ty::Str),
        renamed("no_proxy", "noProxy", STRS),
    ],
);
static TLS: Obj = obj(
    Hook::None,
    &[renamed(
        "certificate_authorities",
        "certificateAuthorities",
        Ty::List(&Ty::Obj(&RESOURCE)),
    )],
);
static SECURITY: Obj = obj(Hook::None, &[same("tls", Ty::Obj(&TLS))]);
static TIMEOUTS: Obj = obj(
    Hook::None,
    &[
        renamed("http_response_headers", "httpResponseHeaders", Ty::Int),
        renamed("http_total", "httpTotal", Ty::Int),
    ],
);
static IGNITION: Obj = obj(
    Hook::None,
    &[
        same("config", Ty::Obj(&IGNITION_CONFIG)),
        same("proxy", Ty::Obj(&PROXY)),
        same("security", Ty::Obj(&SECURITY)),
        same("timeouts", Ty::Obj(&TIMEOUTS)),
        Field {
            butane: None,
            ignition: Some("version"),
            ty: Ty::Str,
            since: 0,
        },
    ],
);

/// The root of a Butane fcos config and of an Ignition config.
pub(crate) static ROOT: Obj = obj(
    Hook::Root,
    &[
        butane("variant", Ty::Str),
        butane("version", Ty::Str),
        same("ignition", Ty::Obj(&IGNITION)),
        renamed(
            "kernel_arguments",
            "kernelArguments",
            Ty::Obj(&KERNEL_ARGUMENTS),
        ),
        same("passwd", Ty::Obj(&PASSWD)),
        same("storage", Ty::Obj(&STORAGE)),
        same("systemd", Ty::Obj(&SYSTEMD)),
        butane("boot_device", Ty::Unsupported),
        since(butane("grub", Ty::Unsupported), 1),
    ],
);

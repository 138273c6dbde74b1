//! `labrun.ssh`: the lab's SSH keys (generated once, kept with the lab),
//! nodes reachable after apply, and connections that run commands and move
//! files, through jump hosts, with host keys known in advance.

use crate::engine::decl::NodeDecl;
use crate::engine::value::Value;
use crate::lua::convert::to_value;
use crate::lua::location;
use crate::lua::modules::lab::with_decl;
use crate::secrets::LabSecrets;
use crate::ssh::{Auth, ConnectOptions, Connection, KeyPair, Output, PublicKey, Target};
use mlua::{Lua, Table, UserData, UserDataMethods};
use serde_json::Value as Json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// Secret-store key of the lab's user key.
pub const USER_KEY: &str = "ssh.user";

fn secrets(lua: &Lua) -> mlua::Result<LabSecrets> {
    lua.app_data_ref::<LabSecrets>()
        .map(|s| s.clone())
        .ok_or_else(|| location::error(lua, "no lab secrets: call labrun.lab{...} first"))
}

/// The key stored under `key`, generated and stored if missing.
fn stored_key(lua: &Lua, key: &str, comment: &str) -> mlua::Result<KeyPair> {
    let store = secrets(lua)?;
    if let Some(Json::String(pem)) = store.get(key)
        && let Ok(k) = KeyPair::from_openssh(&pem)
    {
        return Ok(k);
    }
    let k = KeyPair::generate(comment).map_err(|e| location::error(lua, e))?;
    store.set(key, Json::String(k.to_openssh()));
    Ok(k)
}

/// The lab's user key, as stored with the lab (for steps and `labrun ssh`).
pub fn user_key(store: &LabSecrets) -> Option<KeyPair> {
    match store.get(USER_KEY) {
        Some(Json::String(pem)) => KeyPair::from_openssh(&pem).ok(),
        _ => None,
    }
}

fn public_table(lua: &Lua, k: &KeyPair) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("public", k.public_key().to_openssh_bare())?;
    t.set("fingerprint", k.public_key().fingerprint())?;
    Ok(t)
}

/// An optional field of an optional options table.
pub(super) fn opt<T: mlua::FromLua>(opts: &Option<Table>, key: &str) -> mlua::Result<Option<T>> {
    opts.as_ref().map_or(Ok(None), |o| o.get::<Option<T>>(key))
}

pub(super) fn parse_duration(secs: Option<f64>, default: u64) -> Duration {
    secs.map_or(Duration::from_secs(default), Duration::from_secs_f64)
}

/// One hop: `{ host, port = 22, user = "core", host_key = "ssh-ed25519 ..." }`.
fn target(lua: &Lua, t: &Table) -> mlua::Result<Target> {
    let host: String = t
        .get::<Option<String>>("host")?
        .ok_or_else(|| location::error(lua, "ssh: host is required"))?;
    let key: String = t.get::<Option<String>>("host_key")?.ok_or_else(|| {
        location::error(
            lua,
            format!("ssh: host_key of {host} is required (labrun never trusts on first use)"),
        )
    })?;
    let host_key = PublicKey::from_openssh(&key).map_err(|e| location::error(lua, e))?;
    let user = t
        .get::<Option<String>>("user")?
        .unwrap_or_else(|| "core".into());
    Ok(Target::new(host, user, host_key).with_port(t.get::<Option<u16>>("port")?.unwrap_or(22)))
}

/// What `run` gives Lua: `{ stdout, stderr, status, ok }`; with `check`, an
/// error naming the command, where it ran (`on`) and its stderr if it failed.
pub fn run_result(
    lua: &Lua,
    out: &Output,
    cmd: &str,
    on: &str,
    check: bool,
) -> mlua::Result<Table> {
    if check && !out.success() {
        return Err(mlua::Error::runtime(format!(
            "`{cmd}` on {on} {}: {}",
            out.describe_status(),
            out.stderr_text().trim()
        )));
    }
    let t = lua.create_table()?;
    t.set("stdout", lua.create_string(&out.stdout)?)?;
    t.set("stderr", lua.create_string(&out.stderr)?)?;
    t.set("status", out.status)?;
    t.set("ok", out.success())?;
    Ok(t)
}

/// Where a node's connection stands.
#[derive(Default)]
enum Slot {
    #[default]
    Unopened,
    Open(Connection),
    /// The last attempt failed (when, why): callers that were waiting for
    /// it get its failure rather than waiting a whole deadline again.
    Failed(std::time::Instant, String),
}

/// A connection to a node, opened on first use and kept.
#[derive(Clone)]
pub struct Node {
    pub route: Vec<Target>,
    pub key: KeyPair,
    pub deadline: Duration,
    conn: Arc<Mutex<Slot>>,
    /// The lab's ssh_config and the node's name in it, for `:shell()`.
    shell: Option<(std::path::PathBuf, String)>,
}

impl Node {
    /// A node reached through `route` (jump hosts first, the node last).
    pub fn new(route: Vec<Target>, key: KeyPair, deadline: Duration) -> Node {
        Node {
            route,
            key,
            deadline,
            conn: Arc::new(Mutex::new(Slot::Unopened)),
            shell: None,
        }
    }

    /// Lets `:shell()` open the system ssh with `ssh_config` on host `alias`.
    pub fn with_shell(mut self, ssh_config: std::path::PathBuf, alias: String) -> Node {
        self.shell = Some((ssh_config, alias));
        self
    }

    async fn connection(&self) -> mlua::Result<Connection> {
        let asked = std::time::Instant::now();
        let mut slot = self.conn.lock().await;
        match &*slot {
            Slot::Open(c) => return Ok(c.clone()),
            Slot::Failed(at, why) if *at >= asked => return Err(mlua::Error::runtime(why)),
            _ => {}
        }
        let (node, jumps) = self
            .route
            .split_last()
            .ok_or_else(|| mlua::Error::runtime("empty route"))?;
        let opts = ConnectOptions {
            deadline: self.deadline,
            ..ConnectOptions::default()
        };
        match Connection::connect(node, jumps, &Auth::key(self.key.clone()), &opts).await {
            Ok(c) => {
                *slot = Slot::Open(c.clone());
                Ok(c)
            }
            Err(e) => {
                *slot = Slot::Failed(std::time::Instant::now(), e.to_string());
                Err(mlua::Error::external(e))
            }
        }
    }

    fn name(&self) -> String {
        self.route.last().map(|t| t.to_string()).unwrap_or_default()
    }
}

impl UserData for Node {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(mlua::MetaMethod::ToString, |_, this, ()| Ok(this.name()));
        methods.add_async_method(
            "run",
            |lua, this, (cmd, opts): (String, Option<Table>)| async move {
                let stdin: Option<mlua::LuaString> = opt(&opts, "stdin")?;
                let timeout = parse_duration(opt(&opts, "timeout")?, 600);
                let check = opt(&opts, "check")?.unwrap_or(true);
                let conn = this.connection().await?;
                let out = conn
                    .run(
                        &cmd,
                        stdin.as_ref().map(|s| s.as_bytes().to_vec()).as_deref(),
                        timeout,
                    )
                    .await
                    .map_err(mlua::Error::external)?;
                run_result(&lua, &out, &cmd, &this.name(), check)
            },
        );
        methods.add_async_method(
            "put",
            |_, this, (path, contents, opts): (String, mlua::LuaString, Option<Table>)| async move {
                let mode: String = opt(&opts, "mode")?.unwrap_or_else(|| "0644".into());
                let mode = u32::from_str_radix(&mode, 8).map_err(|_| {
                    mlua::Error::runtime(format!("put: mode '{mode}' is not octal"))
                })?;
                let sudo = opt(&opts, "sudo")?.unwrap_or(false);
                let conn = this.connection().await?;
                conn.put(&contents.as_bytes(), &path, mode, sudo)
                    .await
                    .map_err(mlua::Error::external)
            },
        );
        methods.add_async_method("shell", |_, this, ()| async move {
            let (config, alias) = this.shell.clone().ok_or_else(|| {
                mlua::Error::runtime(format!(
                    "{}: no ssh_config for this node (`labrun up` writes one)",
                    this.name()
                ))
            })?;
            let status = tokio::process::Command::new("ssh")
                .arg("-F")
                .arg(&config)
                .arg(&alias)
                .kill_on_drop(true)
                .status()
                .await
                .map_err(|e| mlua::Error::runtime(format!("cannot run ssh: {e}")))?;
            Ok(status.code())
        });
        methods.add_async_method(
            "get",
            |lua, this, (path, opts): (String, Option<Table>)| async move {
                let sudo = opt(&opts, "sudo")?.unwrap_or(false);
                let conn = this.connection().await?;
                let bytes = conn.get(&path, sudo).await.map_err(mlua::Error::external)?;
                lua.create_string(&bytes)
            },
        );
    }
}

/// Adds `labrun.ssh`.
pub fn register(lua: &Lua, labrun: &Table) -> mlua::Result<()> {
    let m = lua.create_table()?;
    m.set(
        "user_key",
        lua.create_function(|lua, ()| public_table(lua, &stored_key(lua, USER_KEY, "labrun")?))?,
    )?;
    m.set(
        "host_key",
        lua.create_function(|lua, node: String| {
            let k = stored_key(lua, &format!("ssh.host.{node}"), &node)?;
            let t = public_table(lua, &k)?;
            t.set("private", k.to_openssh())?;
            Ok(t)
        })?,
    )?;
    m.set(
        "node",
        lua.create_function(|lua, (name, opts): (String, Table)| {
            let host = to_value(
                lua,
                &opts.get::<mlua::Value>("host")?,
                &format!("node '{name}' host"),
            )?;
            if host == Value::Null {
                return Err(location::error(
                    lua,
                    format!("node '{name}': host is required"),
                ));
            }
            let host_key: String = opts.get::<Option<String>>("host_key")?.ok_or_else(|| {
                location::error(lua, format!("node '{name}': host_key is required"))
            })?;
            PublicKey::from_openssh(&host_key)
                .map_err(|e| location::error(lua, format!("node '{name}': {e}")))?;
            let node = NodeDecl {
                host,
                port: opts.get::<Option<u16>>("port")?.unwrap_or(22),
                user: opts
                    .get::<Option<String>>("user")?
                    .unwrap_or_else(|| "core".into()),
                jump: opts.get("jump")?,
                host_key,
                location: location::caller(lua),
            };
            with_decl(lua, |decl| {
                if decl.nodes.contains_key(&name) {
                    return Err(location::error(
                        lua,
                        format!("node '{name}' is already declared"),
                    ));
                }
                decl.nodes.insert(name, node);
                Ok(())
            })
        })?,
    )?;
    m.set(
        "proxy_url",
        lua.create_function(|lua, ()| {
            let lab = with_decl(lua, |decl| Ok(decl.lab.clone()))?;
            Ok(crate::ssh::socks::proxy_url(&lab))
        })?,
    )?;
    m.set(
        "connect",
        lua.create_function(|lua, opts: Table| {
            let mut route = Vec::new();
            for hop in opts
                .get::<Option<Table>>("jump")?
                .map(|j| {
                    j.sequence_values::<Table>()
                        .collect::<mlua::Result<Vec<_>>>()
                })
                .transpose()?
                .unwrap_or_default()
            {
                route.push(target(lua, &hop)?);
            }
            route.push(target(lua, &opts)?);
            let key = match opts.get::<Option<String>>("key")? {
                Some(pem) => KeyPair::from_openssh(&pem).map_err(|e| location::error(lua, e))?,
                None => stored_key(lua, USER_KEY, "labrun")?,
            };
            Ok(Node::new(
                route,
                key,
                parse_duration(opts.get("timeout")?, 300),
            ))
        })?,
    )?;
    labrun.set("ssh", m)
}

//! `live.here`: this machine, the user's side of a lab, for checks that
//! prove what the user gets works (kubectl through `labrun proxy`).
//! `live.here:run({ program, args... }, { timeout = 600, check = true })`
//! runs a program without holding up other checks and returns what
//! `node:run` returns; `live.here.labrun` is this labrun binary.

use super::ssh::{opt, parse_duration, run_result};
use crate::ssh::Output;
use mlua::{Table, UserData, UserDataFields, UserDataMethods};
use std::process::Stdio;

/// The `live.here` of a lab.
#[derive(Clone, Copy, Default)]
pub struct Here;

impl UserData for Here {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_field_method_get("labrun", |_, _| {
            let exe = std::env::current_exe().map_err(mlua::Error::external)?;
            Ok(exe.display().to_string())
        });
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_async_method(
            "run",
            |lua, _, (argv, opts): (Vec<String>, Option<Table>)| async move {
                let Some((program, args)) = argv.split_first() else {
                    return Err(mlua::Error::runtime("here:run: no program to run"));
                };
                let timeout = parse_duration(opt(&opts, "timeout")?, 600);
                let check = opt(&opts, "check")?.unwrap_or(true);
                let child = tokio::process::Command::new(program)
                    .args(args)
                    .stdin(Stdio::null())
                    .kill_on_drop(true)
                    .output();
                let cmd = argv.join(" ");
                let out = tokio::time::timeout(timeout, child)
                    .await
                    .map_err(|_| {
                        mlua::Error::runtime(format!(
                            "`{cmd}` on this machine did not end within {} s",
                            timeout.as_secs_f64()
                        ))
                    })?
                    .map_err(|e| mlua::Error::runtime(format!("cannot run {program}: {e}")))?;
                let out = Output {
                    stdout: out.stdout,
                    stderr: out.stderr,
                    status: out.status.code().map(|c| c as u32),
                    signal: None,
                };
                run_result(&lua, &out, &cmd, "this machine", check)
            },
        );
    }
}

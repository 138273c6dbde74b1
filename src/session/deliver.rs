//! What a lab hands over once it is up: its nodes recorded with their
//! addresses, `ssh_config`/`known_hosts`/the key copy, the files it
//! declares (resolved now that every value is known), and its after-up
//! steps, each recorded as it finishes.

use super::Session;
use super::live::{live, resolve_nodes};
use super::node_hosts;
use crate::engine::journal::Journal;
use crate::engine::state::NodeState;
use crate::lab_folder::{
    FILES_DIR, IDENTITY, IDENTITY_PUB, KNOWN_HOSTS, LabFolder, OutFile, SSH_CONFIG, Written,
    prune_tree, write_tree,
};
use crate::lua::error::ScriptError;
use crate::lua::modules::ssh::user_key;
use crate::lua::modules::steps::{self, StepOutcome};
use crate::ssh::{ConfigHost, KeyPair, PublicKey, Target, render_known_hosts, render_ssh_config};
use anyhow::{Context, Result};
use indexmap::IndexMap;
use std::path::PathBuf;

/// What [`Session::deliver`] did.
#[derive(Debug, Default)]
pub struct Delivered {
    /// The ssh_config written, and the first node's name.
    pub ssh: Option<(PathBuf, String)>,
    /// The lab's files folder and what was written there.
    pub files: Option<(PathBuf, Written)>,
    /// Each after-up step and how it ended.
    pub steps: Vec<(String, StepOutcome)>,
}

impl Delivered {
    /// Whether a step failed (or was skipped because one failed).
    pub fn failed(&self) -> bool {
        self.steps
            .iter()
            .any(|(_, o)| matches!(o, StepOutcome::Failed(_) | StepOutcome::Skipped(_)))
    }
}

/// Writes `ssh_config`, `known_hosts`, the key copy (0600) and its public half.
pub fn write_access(
    folder: &LabFolder,
    nodes: &IndexMap<String, NodeState>,
    key: &KeyPair,
) -> Result<PathBuf> {
    let hosts = nodes
        .iter()
        .map(|(alias, n)| {
            let host_key = PublicKey::from_openssh(&n.host_key)
                .with_context(|| format!("host key of node {alias}"))?;
            Ok(ConfigHost {
                alias: alias.clone(),
                target: Target::new(n.host.clone(), n.user.clone(), host_key).with_port(n.port),
                proxy_jump: n.jump.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let identity = folder.write(IDENTITY, key.to_openssh().as_bytes())?;
    folder.write(
        IDENTITY_PUB,
        (key.public_key().to_openssh() + "\n").as_bytes(),
    )?;
    let known = folder.write(KNOWN_HOSTS, render_known_hosts(&hosts).as_bytes())?;
    folder.write(
        SSH_CONFIG,
        render_ssh_config(&hosts, &identity, &known).as_bytes(),
    )
}

impl Session {
    /// After an apply: records nodes and outputs, writes the files to reach
    /// the nodes and the lab's own files, and runs the after-up steps not
    /// yet done (`on_start` and `on_done` see each begin and end).
    pub async fn deliver(
        &self,
        journal: &Journal,
        on_start: impl Fn(&str),
        on_done: impl Fn(&str, &StepOutcome),
    ) -> Result<Delivered> {
        let decl = &self.decl;
        let folder = LabFolder::of(&decl.lab)?;
        let hosts = node_hosts::from_env()?;
        let nodes = journal.update(|s| {
            s.nodes = resolve_nodes(decl, s);
            node_hosts::apply(&mut s.nodes, &hosts);
            s.outputs = self.outputs(s);
            s.nodes.clone()
        })?;
        self.pin_images(&journal.snapshot())?;
        let key = self.secrets().and_then(|s| user_key(&s));
        let mut delivered = Delivered::default();
        if let (Some(first), Some(key)) = (nodes.keys().next(), &key) {
            delivered.ssh = Some((write_access(&folder, &nodes, key)?, first.clone()));
        }
        if !self.files.is_empty() {
            delivered.files = Some(self.write_files(journal, &folder)?);
        }
        if !self.steps().is_empty() {
            let state = journal.snapshot();
            let live = live(&state, key).map_err(ScriptError::plain)?;
            let record = |name: &str, outcome: &StepOutcome| {
                if matches!(outcome, StepOutcome::Done(_))
                    && let Err(e) = journal.update(|s| s.done_steps.push(name.to_string()))
                {
                    tracing::error!("cannot record step {name}: {e:#}");
                }
                on_done(name, outcome);
            };
            delivered.steps =
                steps::run(&self.lua, &live, &state.done_steps, on_start, record).await?;
        }
        Ok(delivered)
    }

    /// Writes the lab's declared files into `files/` of its folder, values
    /// known only after apply resolved; unchanged files are left alone and
    /// files the lab no longer declares are removed.
    fn write_files(&self, journal: &Journal, folder: &LabFolder) -> Result<(PathBuf, Written)> {
        let dir = folder.path(FILES_DIR);
        let contents = journal.read(|s| {
            self.files
                .iter()
                .map(|f| f.bytes(&|r| s.attr(&r.address, &r.attr)))
                .collect::<Result<Vec<_>, String>>()
        });
        let contents =
            contents.map_err(|e| anyhow::anyhow!("cannot write the lab's files: {e}"))?;
        folder.create()?;
        let written = write_tree(
            &dir,
            self.files.iter().zip(&contents).map(|(f, c)| OutFile {
                path: &f.path,
                contents: c,
                mode: f.mode,
            }),
        )?;
        let keep = self.files.iter().map(|f| f.path.clone()).collect();
        prune_tree(&dir, &keep)?;
        Ok((dir, written))
    }
}

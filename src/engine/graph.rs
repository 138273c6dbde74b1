//! The operation graph of an apply: every create in its stages, updates and
//! deletes whole, each operation waiting only for what it uses (a stage for
//! the attributes its properties refer to, not for whole resources), and the
//! graph's longest chain.

use super::decl::Declaration;
use super::plan::{Action, Plan};
use super::progress::Verb;
use super::provider::{Provider, Stage};
use super::value::Ref;
use std::collections::HashMap;

/// The pseudo-property naming a resource's explicit dependencies in
/// [`Stage::needs`].
pub const DEPENDS_ON: &str = "depends_on";

/// A stage of a create, placed in the graph.
#[derive(Debug, Clone)]
pub struct Staged {
    pub stage: Stage,
    /// Properties with references it resolves (literal ones go to every stage).
    pub keys: Vec<String>,
    /// Whether it is the resource's first stage (which journals it).
    pub first: bool,
    /// How many stages the resource has.
    pub count: usize,
}

/// One operation of an apply.
#[derive(Debug, Clone)]
pub struct Op {
    pub address: String,
    pub verb: Verb,
    /// For a create, its stage.
    pub staged: Option<Staged>,
}

impl Op {
    /// `address/stage` for a create's stage, `address/update`, `address/delete`.
    pub fn label(&self) -> String {
        match &self.staged {
            Some(s) => format!("{}/{}", self.address, s.stage.name),
            None => format!("{}/{}", self.address, verb_name(self.verb)),
        }
    }
}

fn verb_name(verb: Verb) -> &'static str {
    match verb {
        Verb::Create => "create",
        Verb::Update => "update",
        Verb::Delete => "delete",
    }
}

/// Operations and, for each, the operations it waits for.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub ops: Vec<Op>,
    pub deps: Vec<Vec<usize>>,
}

/// Where the operations of each address are.
#[derive(Default)]
struct Index {
    deletes: HashMap<String, usize>,
    updates: HashMap<String, usize>,
    /// Create stages by address, in the kind's order.
    stages: HashMap<String, Vec<usize>>,
}

impl Graph {
    /// Builds the graph of `plan`. `old_deps` are the dependencies the state
    /// recorded per address: a delete runs after the deletes of what depended
    /// on it. A replacement's create starts after its delete.
    pub fn build(
        decl: &Declaration,
        plan: &Plan,
        old_deps: &HashMap<String, Vec<String>>,
        provider: &dyn Provider,
    ) -> Graph {
        let mut g = Graph::default();
        let mut at = Index::default();
        for c in &plan.changes {
            if matches!(c.action, Action::Delete | Action::Replace { .. }) {
                at.deletes
                    .insert(c.address.clone(), g.push(&c.address, Verb::Delete, None));
            }
            match c.action {
                Action::Create | Action::Replace { .. } => {
                    let r = &decl.resources[&c.address];
                    let stages = provider.stages(&r.kind, &r.props);
                    let ids = assign_keys(r, &stages)
                        .into_iter()
                        .map(|staged| g.push(&c.address, Verb::Create, Some(staged)))
                        .collect();
                    at.stages.insert(c.address.clone(), ids);
                }
                Action::Update { .. } => {
                    at.updates
                        .insert(c.address.clone(), g.push(&c.address, Verb::Update, None));
                }
                Action::Keep | Action::Delete => {}
            }
        }
        for i in 0..g.ops.len() {
            let op = &g.ops[i];
            let mut deps = Vec::new();
            match (op.verb, &op.staged) {
                (Verb::Delete, _) => {
                    for (other, theirs) in old_deps {
                        if theirs.contains(&op.address)
                            && let Some(&j) = at.deletes.get(other)
                        {
                            deps.push(j);
                        }
                    }
                }
                (_, Some(s)) => {
                    let r = &decl.resources[&op.address];
                    if s.first {
                        deps.extend(at.deletes.get(&op.address));
                    }
                    let mine = &at.stages[&op.address];
                    for name in s.stage.after {
                        deps.extend(
                            mine.iter()
                                .copied()
                                .filter(|&j| g.ops[j].staged.as_ref().unwrap().stage.name == *name),
                        );
                    }
                    for key in &s.keys {
                        if key == DEPENDS_ON {
                            for rf in &r.depends_on {
                                deps.extend(at.whole(&rf.address));
                            }
                        } else if let Some(v) = r.props.get(key) {
                            v.visit_refs(&mut |rf| deps.extend(at.ready(&g, rf)));
                        }
                    }
                }
                (_, None) => {
                    let r = &decl.resources[&op.address];
                    for v in r.props.values() {
                        v.visit_refs(&mut |rf| deps.extend(at.ready(&g, rf)));
                    }
                    for rf in &r.depends_on {
                        deps.extend(at.whole(&rf.address));
                    }
                }
            }
            deps.sort_unstable();
            deps.dedup();
            deps.retain(|&j| j != i);
            g.deps.push(deps);
        }
        g
    }

    fn push(&mut self, address: &str, verb: Verb, staged: Option<Staged>) -> usize {
        self.ops.push(Op {
            address: address.to_string(),
            verb,
            staged,
        });
        self.ops.len() - 1
    }

    /// The longest chain of operations each waiting for the one before:
    /// what bounds a parallel apply however many run at once.
    pub fn longest_chain(&self) -> Vec<usize> {
        let mut best: Vec<Option<Vec<usize>>> = vec![None; self.ops.len()];
        fn chain(g: &Graph, i: usize, best: &mut Vec<Option<Vec<usize>>>) -> Vec<usize> {
            if let Some(c) = &best[i] {
                return c.clone();
            }
            let mut longest = Vec::new();
            for &d in &g.deps[i] {
                let c = chain(g, d, best);
                if c.len() > longest.len() {
                    longest = c;
                }
            }
            longest.push(i);
            best[i] = Some(longest.clone());
            longest
        }
        (0..self.ops.len())
            .map(|i| chain(self, i, &mut best))
            .max_by_key(Vec::len)
            .unwrap_or_default()
    }
}

impl Index {
    /// The operations after which attribute `rf` is known: the stage that
    /// gives it (the whole resource if none says so), or its update.
    fn ready(&self, g: &Graph, rf: &Ref) -> Vec<usize> {
        if let Some(stages) = self.stages.get(&rf.address) {
            let giver = stages.iter().copied().find(|&j| {
                g.ops[j]
                    .staged
                    .as_ref()
                    .is_some_and(|s| s.stage.gives.contains(&rf.attr.as_str()))
            });
            return giver.map_or_else(|| stages.clone(), |j| vec![j]);
        }
        self.whole(&rf.address)
    }

    /// The operations after which the resource at `address` is fully made.
    fn whole(&self, address: &str) -> Vec<usize> {
        match (self.stages.get(address), self.updates.get(address)) {
            (Some(stages), _) => stages.clone(),
            (None, Some(&u)) => vec![u],
            (None, None) => Vec::new(),
        }
    }
}

/// Gives each stage the properties with references it resolves: those it
/// names, and to the first every one no stage names.
fn assign_keys(r: &super::decl::ResourceDecl, stages: &[Stage]) -> Vec<Staged> {
    let named = |key: &str| stages.iter().any(|s| s.needs.contains(&key));
    let mut keys: Vec<String> = r
        .props
        .iter()
        .filter(|(_, v)| v.has_refs())
        .map(|(k, _)| k.clone())
        .collect();
    if !r.depends_on.is_empty() {
        keys.push(DEPENDS_ON.to_string());
    }
    stages
        .iter()
        .enumerate()
        .map(|(n, stage)| Staged {
            stage: *stage,
            keys: keys
                .iter()
                .filter(|k| stage.needs.contains(&k.as_str()) || (n == 0 && !named(k)))
                .cloned()
                .collect(),
            first: n == 0,
            count: stages.len(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::decl::{Declaration, ResourceDecl};
    use crate::engine::plan::Change;
    use crate::engine::provider::Offline;
    use crate::engine::value::Value;

    /// `vpc` in one go, `ip` allocated then associated with the `nic` it
    /// names, `nic` made then checked.
    fn stages(kind: &str) -> Vec<Stage> {
        match kind {
            "ip" => vec![
                Stage::first("allocate", &["id", "address"]),
                Stage::after("associate", &["allocate"], &["nic", DEPENDS_ON]),
            ],
            "nic" => vec![
                Stage::first("create", &["id"]),
                Stage::after("check", &["create"], &[]),
            ],
            _ => vec![Stage::WHOLE],
        }
    }

    const STAGES: Offline = Offline {
        order: Vec::new(),
        stages,
        held_by: |_| Vec::new(),
    };

    fn rf(address: &str, attr: &str) -> Value {
        Value::Ref(Ref {
            address: address.into(),
            attr: attr.into(),
        })
    }

    fn resource(kind: &str, name: &str, props: Vec<(&str, Value)>, after: &[&str]) -> ResourceDecl {
        ResourceDecl {
            kind: kind.into(),
            name: name.into(),
            props: props.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            depends_on: after
                .iter()
                .map(|a| Ref {
                    address: a.to_string(),
                    attr: "id".into(),
                })
                .collect(),
            location: Default::default(),
        }
    }

    fn lab() -> Declaration {
        let mut decl = Declaration::default();
        for r in [
            resource(
                "vpc",
                "v",
                vec![("cidr", Value::Str("10.0.0.0/16".into()))],
                &[],
            ),
            resource("gw", "g", vec![("vpc", rf("vpc.v", "id"))], &[]),
            resource("nic", "n", vec![("vpc", rf("vpc.v", "id"))], &[]),
            resource("ip", "i", vec![("nic", rf("nic.n", "id"))], &["gw.g"]),
            resource("box", "b", vec![("greeting", rf("ip.i", "address"))], &[]),
        ] {
            decl.resources.insert(r.address(), r);
        }
        decl
    }

    fn all_created(decl: &Declaration) -> Plan {
        Plan {
            changes: decl
                .resources
                .values()
                .map(|r| Change {
                    address: r.address(),
                    kind: r.kind.clone(),
                    action: Action::Create,
                    diff: Vec::new(),
                })
                .collect(),
        }
    }

    fn waits(g: &Graph, label: &str) -> Vec<String> {
        let i = g.ops.iter().position(|o| o.label() == label).unwrap();
        let mut labels: Vec<String> = g.deps[i].iter().map(|&j| g.ops[j].label()).collect();
        labels.sort();
        labels
    }

    #[test]
    fn a_stage_waits_for_the_stages_that_give_what_it_uses() {
        let decl = lab();
        let g = Graph::build(&decl, &all_created(&decl), &HashMap::new(), &STAGES);
        assert!(waits(&g, "ip.i/allocate").is_empty(), "allocated at once");
        assert_eq!(
            waits(&g, "ip.i/associate"),
            ["gw.g/create", "ip.i/allocate", "nic.n/create"],
            "associated once its interface's ID is known and its explicit dependency is whole"
        );
        assert_eq!(
            waits(&g, "box.b/create"),
            ["ip.i/allocate"],
            "the address is known at allocation"
        );
        assert_eq!(waits(&g, "nic.n/check"), ["nic.n/create"]);
        let chain: Vec<String> = g
            .longest_chain()
            .into_iter()
            .map(|i| g.ops[i].label())
            .collect();
        assert_eq!(chain.len(), 3, "{chain:?}");
        assert_eq!(chain[0], "vpc.v/create");
    }

    #[test]
    fn a_replacement_is_made_after_its_delete_and_deletes_go_dependents_first() {
        let decl = lab();
        let mut plan = all_created(&decl);
        for c in &mut plan.changes {
            if c.address == "nic.n" {
                c.action = Action::Replace {
                    because: vec!["test".into()],
                };
            }
        }
        plan.changes.push(Change {
            address: "box.old".into(),
            kind: "box".into(),
            action: Action::Delete,
            diff: Vec::new(),
        });
        let old = HashMap::from([("box.old".to_string(), vec!["nic.n".to_string()])]);
        let g = Graph::build(&decl, &plan, &old, &STAGES);
        assert_eq!(waits(&g, "nic.n/create"), ["nic.n/delete", "vpc.v/create"]);
        assert_eq!(waits(&g, "nic.n/delete"), ["box.old/delete"]);
    }
}

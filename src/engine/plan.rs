//! Plan: the difference between what a script declares and what the state
//! records, per resource: create, update in place, replace, delete, keep.

use super::decl::Declaration;
use super::schema::{Schema, Update};
use super::state::{State, Status};
use super::value::Resolved;
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::HashSet;

/// What happens to one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Create,
    /// Changed fields that can be updated in place.
    Update {
        fields: Vec<String>,
    },
    /// Changed fields that force a new resource (or why it must be redone).
    Replace {
        because: Vec<String>,
    },
    Delete,
    Keep,
}

/// A field whose value changes, old and new.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Json,
    /// `None` when the new value is known only after apply.
    pub after: Option<Json>,
}

/// One line of a plan.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub address: String,
    pub kind: String,
    #[serde(flatten)]
    pub action: Action,
    /// For an update or a replacement: each changed field, before and after.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<FieldChange>,
}

/// The plan for a whole lab, declared resources in dependency order, then deletions.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub changes: Vec<Change>,
}

impl Plan {
    /// Whether applying it would change anything.
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::Keep)
    }

    /// Counts of (create, update, replace, delete).
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let mut n = (0, 0, 0, 0);
        for c in &self.changes {
            match c.action {
                Action::Create => n.0 += 1,
                Action::Update { .. } => n.1 += 1,
                Action::Replace { .. } => n.2 += 1,
                Action::Delete => n.3 += 1,
                Action::Keep => {}
            }
        }
        n
    }
}

/// Declared addresses, dependencies first (the declaration has no cycles).
pub fn topological(decl: &Declaration) -> Vec<String> {
    fn visit(decl: &Declaration, a: &str, seen: &mut HashSet<String>, out: &mut Vec<String>) {
        if !seen.insert(a.to_string()) {
            return;
        }
        if let Some(r) = decl.resources.get(a) {
            for d in r.dependencies() {
                visit(decl, &d, seen, out);
            }
            out.push(a.to_string());
        }
    }
    let (mut seen, mut out) = (HashSet::new(), Vec::new());
    for a in decl.resources.keys() {
        visit(decl, a, &mut seen, &mut out);
    }
    out
}

/// The schema of a kind, as the provider knows it.
pub type Schemas<'a> = &'a dyn Fn(&str) -> Option<&'static Schema>;

/// Computes the plan. Needs no cloud access.
pub fn plan(decl: &Declaration, state: &State, schemas: Schemas<'_>) -> Plan {
    let mut changes = Vec::new();
    // Resources whose attributes will be new after apply.
    let mut fresh: HashSet<String> = HashSet::new();
    for address in topological(decl) {
        let r = &decl.resources[&address];
        let (action, diff) = match state.resources.get(&address) {
            None => (Action::Create, Vec::new()),
            Some(s) if s.status != Status::Created => (
                Action::Replace {
                    because: vec!["its creation did not finish".into()],
                },
                Vec::new(),
            ),
            Some(s) => diff(r, s, state, &fresh, schemas),
        };
        if matches!(action, Action::Create | Action::Replace { .. }) {
            fresh.insert(address.clone());
        }
        changes.push(Change {
            address,
            kind: r.kind.clone(),
            action,
            diff,
        });
    }
    for (address, s) in &state.resources {
        if !decl.resources.contains_key(address) {
            changes.push(Change {
                address: address.clone(),
                kind: s.kind.clone(),
                action: Action::Delete,
                diff: Vec::new(),
            });
        }
    }
    Plan { changes }
}

fn diff(
    r: &super::decl::ResourceDecl,
    s: &super::state::ResourceState,
    state: &State,
    fresh: &HashSet<String>,
    schemas: Schemas<'_>,
) -> (Action, Vec<FieldChange>) {
    let lookup = |rf: &super::value::Ref| {
        if fresh.contains(&rf.address) {
            None
        } else {
            state.attr(&rf.address, &rf.attr)
        }
    };
    let schema = schemas(&r.kind);
    let (mut replace, mut update, mut changed_fields) = (Vec::new(), Vec::new(), Vec::new());
    let mut names: Vec<&str> = r.props.keys().map(String::as_str).collect();
    if let Json::Object(old) = &s.props {
        names.extend(
            old.keys()
                .map(String::as_str)
                .filter(|k| !r.props.contains_key(*k)),
        );
    }
    for name in names {
        let old = s.props.get(name).unwrap_or(&Json::Null);
        let new = match r.props.get(name).map(|v| v.resolve(&lookup)) {
            None => Some(Json::Null),
            Some(Resolved::Known(new)) => Some(new),
            Some(Resolved::Unknown) => None,
        };
        if new.as_ref() != Some(old) {
            changed_fields.push(FieldChange {
                field: name.to_string(),
                before: old.clone(),
                after: new,
            });
            let how = schema
                .and_then(|sc| sc.field(name))
                .map_or(Update::Replace, |f| f.update);
            match how {
                Update::Replace => replace.push(name.to_string()),
                Update::InPlace => update.push(name.to_string()),
            }
        }
    }
    let action = if !replace.is_empty() {
        Action::Replace { because: replace }
    } else if !update.is_empty() {
        Action::Update { fields: update }
    } else {
        Action::Keep
    };
    (action, changed_fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::decl::{Location, ResourceDecl};
    use crate::engine::schema::{Field, Type};
    use crate::engine::state::ResourceState;
    use crate::engine::value::{Ref, Value};
    use indexmap::IndexMap;
    use serde_json::json;

    /// The one in-place field of these tests: an instance's type.
    static INSTANCE: Schema = Schema {
        kind: "instance",
        doc: "",
        fields: &[Field::required("type", Type::Str, "").in_place()],
        attrs: &[],
    };

    fn schemas(kind: &str) -> Option<&'static Schema> {
        (kind == "instance").then_some(&INSTANCE)
    }

    /// (kind, name, properties) of one declared resource.
    type Declared<'a> = (&'a str, &'a str, &'a [(&'a str, Value)]);

    fn decl(resources: &[Declared<'_>]) -> Declaration {
        let mut d = Declaration {
            lab: "t".into(),
            region: "us-east-1".into(),
            ..Default::default()
        };
        for (kind, name, props) in resources {
            let props: IndexMap<String, Value> = props
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            let r = ResourceDecl {
                kind: kind.to_string(),
                name: name.to_string(),
                props,
                depends_on: Vec::new(),
                location: Location::default(),
            };
            d.resources.insert(r.address(), r);
        }
        d
    }

    fn created(
        state: &mut State,
        address: &str,
        id: &str,
        props: serde_json::Value,
        status: Status,
    ) {
        let kind = address.split('.').next().unwrap().to_string();
        state.resources.insert(
            address.into(),
            ResourceState {
                kind,
                status,
                id: Some(id.into()),
                token: "t".into(),
                props,
                attrs: Default::default(),
                deps: Vec::new(),
                created_at: 0,
            },
        );
    }

    fn id_of(address: &str) -> Value {
        Value::Ref(Ref {
            address: address.into(),
            attr: "id".into(),
        })
    }

    fn action(plan: &Plan, address: &str) -> Action {
        plan.changes
            .iter()
            .find(|c| c.address == address)
            .unwrap()
            .action
            .clone()
    }

    fn lab(subnet_cidr: &str, instance_type: &str) -> Declaration {
        let s = |v: &str| Value::Str(v.into());
        decl(&[
            ("vpc", "v", &[("cidr", s("10.0.0.0/16"))]),
            (
                "subnet",
                "s",
                &[("vpc", id_of("vpc.v")), ("cidr", s(subnet_cidr))],
            ),
            (
                "instance",
                "i",
                &[
                    ("subnet", id_of("subnet.s")),
                    ("type", s(instance_type)),
                    ("image", s("ami-1")),
                ],
            ),
        ])
    }

    fn applied() -> State {
        let mut state = State::new("t", "us-east-1");
        created(
            &mut state,
            "vpc.v",
            "vpc-1",
            json!({"cidr": "10.0.0.0/16"}),
            Status::Created,
        );
        created(
            &mut state,
            "subnet.s",
            "subnet-1",
            json!({"vpc": "vpc-1", "cidr": "10.0.1.0/24"}),
            Status::Created,
        );
        let i = json!({"subnet": "subnet-1", "type": "t3.nano", "image": "ami-1"});
        created(&mut state, "instance.i", "i-1", i, Status::Created);
        state
    }

    #[test]
    fn a_new_lab_is_all_creates_in_dependency_order() {
        let plan = plan(
            &lab("10.0.1.0/24", "t3.nano"),
            &State::new("t", "us-east-1"),
            &schemas,
        );
        let order: Vec<_> = plan.changes.iter().map(|c| c.address.as_str()).collect();
        assert_eq!(order, ["vpc.v", "subnet.s", "instance.i"]);
        assert!(plan.changes.iter().all(|c| c.action == Action::Create));
    }

    #[test]
    fn an_unchanged_lab_keeps_everything() {
        let plan = plan(&lab("10.0.1.0/24", "t3.nano"), &applied(), &schemas);
        assert!(!plan.has_changes(), "{plan:?}");
    }

    #[test]
    fn an_in_place_field_updates_and_names_the_field() {
        let plan = plan(&lab("10.0.1.0/24", "t3.micro"), &applied(), &schemas);
        assert_eq!(
            action(&plan, "instance.i"),
            Action::Update {
                fields: vec!["type".into()]
            }
        );
        assert_eq!(plan.counts(), (0, 1, 0, 0));
    }

    #[test]
    fn a_replaced_resource_replaces_what_refers_to_it() {
        let plan = plan(&lab("10.0.2.0/24", "t3.nano"), &applied(), &schemas);
        assert_eq!(
            action(&plan, "subnet.s"),
            Action::Replace {
                because: vec!["cidr".into()]
            }
        );
        // The instance's subnet ID is only known after the new subnet exists.
        assert_eq!(
            action(&plan, "instance.i"),
            Action::Replace {
                because: vec!["subnet".into()]
            }
        );
        assert_eq!(action(&plan, "vpc.v"), Action::Keep);
    }

    #[test]
    fn unfinished_creates_are_redone_and_undeclared_resources_deleted() {
        let mut state = applied();
        state.resources.get_mut("instance.i").unwrap().status = Status::Creating;
        created(
            &mut state,
            "vpc.old",
            "vpc-9",
            json!({"cidr": "10.9.0.0/16"}),
            Status::Created,
        );
        let plan = plan(&lab("10.0.1.0/24", "t3.nano"), &state, &schemas);
        assert_eq!(
            action(&plan, "instance.i"),
            Action::Replace {
                because: vec!["its creation did not finish".into()]
            }
        );
        assert_eq!(action(&plan, "vpc.old"), Action::Delete);
        assert_eq!(plan.counts(), (0, 0, 1, 1));
    }
}

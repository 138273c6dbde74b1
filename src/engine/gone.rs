//! Resources that went away without labrun: AWS terminates a reclaimed spot
//! instance (labrun asks for one-time spot instances), and a user may
//! terminate one by hand. `up` asks the provider what still carries the
//! lab's tag, forgets the instances it no longer finds, and so plans them
//! again.

use super::provider::Tagged;
use super::state::State;

/// Kinds whose resources AWS may remove on its own.
const VANISHING: &[&str] = &["instance"];

/// Whether `state` records a resource that may have vanished.
pub fn may_have_vanished(state: &State) -> bool {
    state
        .resources
        .values()
        .any(|r| r.id.is_some() && VANISHING.contains(&r.kind.as_str()))
}

/// Removes from `state` the resources of the vanishing kinds that `found`
/// (everything the provider finds by the lab's tag) no longer lists, and
/// returns their addresses.
pub fn forget(state: &mut State, found: &[Tagged]) -> Vec<String> {
    let gone: Vec<String> = (state.resources.iter())
        .filter(|(_, r)| VANISHING.contains(&r.kind.as_str()))
        .filter(|(_, r)| {
            r.id.as_ref()
                .is_some_and(|id| !found.iter().any(|t| t.kind == r.kind && &t.id == id))
        })
        .map(|(address, _)| address.clone())
        .collect();
    for address in &gone {
        state.resources.shift_remove(address);
    }
    gone
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::state::{ResourceState, Status};

    fn resource(kind: &str, id: &str) -> ResourceState {
        ResourceState {
            kind: kind.into(),
            status: Status::Created,
            id: Some(id.into()),
            token: "t".into(),
            props: serde_json::json!({}),
            attrs: Default::default(),
            deps: Vec::new(),
            created_at: 0,
        }
    }

    fn tagged(kind: &str, id: &str) -> Tagged {
        Tagged {
            kind: kind.into(),
            id: id.into(),
            address: String::new(),
        }
    }

    #[test]
    fn instances_no_longer_found_are_forgotten_and_nothing_else() {
        let mut state = State::new("kube", "us-east-1");
        state
            .resources
            .insert("vpc.lab".into(), resource("vpc", "vpc-1"));
        state
            .resources
            .insert("instance.a".into(), resource("instance", "i-1"));
        state
            .resources
            .insert("instance.b".into(), resource("instance", "i-2"));
        assert!(may_have_vanished(&state));
        let gone = forget(&mut state, &[tagged("instance", "i-1")]);
        assert_eq!(gone, ["instance.b"]);
        let left: Vec<&str> = state.resources.keys().map(String::as_str).collect();
        assert_eq!(
            left,
            ["vpc.lab", "instance.a"],
            "the VPC is not the provider's to vanish"
        );
        state.resources.shift_remove("instance.a");
        assert!(!may_have_vanished(&state));
    }
}

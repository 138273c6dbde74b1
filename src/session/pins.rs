//! Images pinned in the lab's lock: an instance whose image is a lookup
//! ("the newest Fedora CoreOS stable") gets, once the lab has been up, the
//! very image the lookup found then, until `up --upgrade`.

use crate::engine::decl::Declaration;
use crate::engine::state::State;
use crate::engine::value::{Resolved, Value};
use crate::secrets::Pinned;
use serde_json::Value as Json;

/// The lock's entry mapping image lookups (as JSON) to the image IDs found.
const IMAGES: &str = "images";

/// An instance's image lookup (a table, not an image ID).
fn lookup(v: &Value) -> Option<Json> {
    match (v, v.resolve(&|_| None)) {
        (Value::Map(_), Resolved::Known(j)) => Some(j),
        _ => None,
    }
}

fn images(pinned: &Pinned) -> serde_json::Map<String, Json> {
    match pinned.0.get(IMAGES) {
        Some(Json::Object(m)) => m,
        _ => serde_json::Map::new(),
    }
}

/// Replaces the image lookups of instances about to be created by the
/// images pinned for them. Instances already up from a lookup keep it
/// (their state records the lookup, so nothing changes for them).
pub fn apply(decl: &mut Declaration, state: &State, pinned: &Pinned) {
    let images = images(pinned);
    for (address, r) in decl
        .resources
        .iter_mut()
        .filter(|(_, r)| r.kind == "instance")
    {
        let Some(wanted) = r.props.get("image").and_then(lookup) else {
            continue;
        };
        let up_from_lookup = state
            .resources
            .get(address)
            .and_then(|s| s.props.get("image"))
            == Some(&wanted);
        if let (false, Some(Json::String(id))) = (up_from_lookup, images.get(&wanted.to_string())) {
            r.props.insert("image".into(), Value::Str(id.clone()));
        }
    }
}

/// Pins the images the lookups found in this apply.
pub fn record(decl: &Declaration, state: &State, pinned: &Pinned) {
    let mut images = images(pinned);
    let before = images.len();
    for (address, r) in decl.resources.iter().filter(|(_, r)| r.kind == "instance") {
        if let (Some(wanted), Some(Json::String(id))) = (
            r.props.get("image").and_then(lookup),
            state.attr(address, "image_id"),
        ) && !id.is_empty()
        {
            images.entry(wanted.to_string()).or_insert(Json::String(id));
        }
    }
    if images.len() != before {
        pinned.0.set(IMAGES, Json::Object(images));
    }
}

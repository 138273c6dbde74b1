//! Ignition's duplicate check: no two entries of a list (or of lists sharing
//! a namespace, like files, directories and links) with the same key.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::super::error::Report;
use super::super::schema::{ListRule, Obj, ROOT, Ty, entry_key};
use super::super::spec::Level;

/// Reports every entry whose key repeats an earlier one's, walking the config
/// parents first, as Ignition does.
pub(crate) fn duplicates(config: &Value, level: Level, r: &mut Report) {
    object(config, &ROOT, "$", level, r);
}

fn object(value: &Value, obj: &Obj, at: &str, level: Level, r: &mut Report) {
    let Value::Object(map) = value else {
        return;
    };
    let fields = obj
        .fields
        .iter()
        .filter(|f| f.exists(level))
        .filter_map(|f| Some((f.ignition?, f)));
    let mut seen: HashMap<&str, HashSet<std::borrow::Cow<str>>> = HashMap::new();
    for (name, field) in fields.clone() {
        let (Ty::List(inner), Some(Value::Array(items))) = (&field.ty, map.get(name)) else {
            continue;
        };
        let handle = match field.list {
            ListRule::Appended => continue,
            ListRule::Keyed => name,
            ListRule::Shared(h) => h,
        };
        let keys = seen.entry(handle).or_default();
        for (i, item) in items.iter().enumerate() {
            if !keys.insert(entry_key(inner, item)) {
                r.output_error(&format!("{at}.{name}.{i}"), "duplicate entry defined");
            }
        }
    }
    for (name, field) in fields {
        let Some(v) = map.get(name) else { continue };
        match &field.ty {
            Ty::Obj(inner) => object(v, inner, &format!("{at}.{name}"), level, r),
            Ty::List(Ty::Obj(inner)) => {
                for (i, item) in v.as_array().into_iter().flatten().enumerate() {
                    object(item, inner, &format!("{at}.{name}.{i}"), level, r);
                }
            }
            _ => {}
        }
    }
}

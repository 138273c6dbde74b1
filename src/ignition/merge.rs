//! Composition of Butane fragments before translation.

use serde_json::{Map, Value};

/// The field that identifies an entry of a keyed list, by the list's name.
fn list_key(list: &str) -> Option<&'static str> {
    match list {
        "files" | "directories" | "links" => Some("path"),
        "units" | "dropins" | "users" | "groups" | "luks" | "raid" => Some("name"),
        "disks" | "filesystems" => Some("device"),
        "partitions" => Some("number"),
        _ => None,
    }
}

/// Resources are replaced whole: merging `inline` into `local` would make a
/// config with two sources.
const REPLACED_WHOLE: [&str; 3] = ["contents", "replace", "key_file"];

/// Merges `fragment` into `base` (both Butane-shaped trees) and returns the
/// result. The rule:
/// - mappings merge key by key, recursively; a scalar (or `null`) in the
///   fragment replaces the base's value;
/// - lists of entries with an identity (`files`, `directories`, `links` by
///   `path`; `units`, `dropins`, `users`, `groups`, `luks`, `raid` by `name`;
///   `disks`, `filesystems` by `device`; `partitions` by `number`): a fragment
///   entry whose identity matches a base entry is merged into it by this same
///   rule, any other entry is appended;
/// - a file's `contents`, `ignition.config.replace` and `key_file` are
///   replaced whole, not merged;
/// - other lists are concatenated, dropping fragment items equal to one
///   already present.
pub fn merge(base: &Value, fragment: &Value) -> Value {
    merge_value(base, fragment, "")
}

fn merge_value(base: &Value, fragment: &Value, name: &str) -> Value {
    match (base, fragment) {
        (Value::Object(b), Value::Object(f)) if !REPLACED_WHOLE.contains(&name) => {
            let mut out: Map<String, Value> = b.clone();
            for (k, fv) in f {
                let merged = match b.get(k) {
                    Some(bv) => merge_value(bv, fv, k),
                    None => fv.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(b), Value::Array(f)) => Value::Array(merge_list(b, f, list_key(name))),
        _ => fragment.clone(),
    }
}

fn merge_list(base: &[Value], fragment: &[Value], key: Option<&str>) -> Vec<Value> {
    let mut out = base.to_vec();
    for item in fragment {
        let id = key.and_then(|k| item.get(k)).filter(|v| !v.is_null());
        let same = id.and_then(|id| {
            out.iter()
                .position(|e| key.and_then(|k| e.get(k)) == Some(id))
        });
        match same {
            Some(i) => out[i] = merge_value(&out[i], item, ""),
            None if id.is_none() && out.contains(item) => {}
            None => out.push(item.clone()),
        }
    }
    out
}

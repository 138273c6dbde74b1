//! Ignition's merge of a parent config into a child config, which Butane uses
//! to add what it generates (mount units, the boot disk layout, GRUB users)
//! under the user's config: the user's entries win, generated entries come
//! first.
//!
//! Besides the merged config it returns where each list entry of either side
//! went, so the source locations of both sides can follow.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::schema::{ListRule, Obj, ROOT, Ty, entry_key};
use super::spec::Level;

/// Where a list entry went: its path in the result, or nowhere (dropped, or
/// carrying nothing the official tool traces).
pub(crate) type Moves = HashMap<String, Option<String>>;

/// A merged config and, for each side, list entry path → result path.
pub(crate) struct Merged {
    pub value: Value,
    pub parent_moves: Moves,
    pub child_moves: Moves,
}

/// Merges `child` over `parent` (both Ignition configs at `level`).
pub(crate) fn merge(parent: &Value, child: &Value, level: Level) -> Merged {
    let mut m = Merger {
        level,
        parent_moves: HashMap::new(),
        child_moves: HashMap::new(),
    };
    let empty = Map::new();
    let p = parent.as_object().unwrap_or(&empty);
    let c = child.as_object().unwrap_or(&empty);
    let here = Paths {
        parent: "$".into(),
        child: "$".into(),
        result: "$".into(),
    };
    let value = Value::Object(m.object(p, c, &ROOT, &here));
    Merged {
        value,
        parent_moves: m.parent_moves,
        child_moves: m.child_moves,
    }
}

struct Paths {
    parent: String,
    child: String,
    result: String,
}

impl Paths {
    fn field(&self, name: &str) -> Paths {
        Paths {
            parent: format!("{}.{name}", self.parent),
            child: format!("{}.{name}", self.child),
            result: format!("{}.{name}", self.result),
        }
    }
}

struct Merger {
    level: Level,
    parent_moves: Moves,
    child_moves: Moves,
}

fn is_zero(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    }
}

const NONE: &[Value] = &[];

fn items(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(NONE, Vec::as_slice)
}

impl Merger {
    fn object(
        &mut self,
        p: &Map<String, Value>,
        c: &Map<String, Value>,
        obj: &Obj,
        at: &Paths,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        let level = self.level;
        for field in obj.fields.iter().filter(|f| f.exists(level)) {
            let Some(name) = field.ignition else { continue };
            let (pv, cv) = (p.get(name), c.get(name));
            let merged = match &field.ty {
                Ty::Str | Ty::Int | Ty::Bool if field.plain(self.level) => cv.cloned(),
                Ty::Str | Ty::Int | Ty::Bool => cv.or(pv).cloned(),
                Ty::Obj(inner) => {
                    if is_zero(cv) {
                        pv.cloned()
                    } else if is_zero(pv) {
                        cv.cloned()
                    } else {
                        let (pm, cm) =
                            (pv.and_then(Value::as_object), cv.and_then(Value::as_object));
                        match (pm, cm) {
                            (Some(pm), Some(cm)) => {
                                Some(Value::Object(self.object(pm, cm, inner, &at.field(name))))
                            }
                            _ => cv.cloned(),
                        }
                    }
                }
                Ty::List(inner) => {
                    let list = self.list(p, c, obj, name, field.list, inner, &at.field(name));
                    (!list.is_empty()).then_some(Value::Array(list))
                }
            };
            if let Some(v) = merged {
                out.insert(name.to_owned(), v);
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn list(
        &mut self,
        p: &Map<String, Value>,
        c: &Map<String, Value>,
        obj: &Obj,
        name: &str,
        rule: ListRule,
        inner: &Ty,
        at: &Paths,
    ) -> Vec<Value> {
        let (plist, clist) = (items(p.get(name)), items(c.get(name)));
        let mut out = Vec::with_capacity(plist.len() + clist.len());
        let handle = match rule {
            ListRule::Appended => {
                for (i, item) in plist.iter().enumerate() {
                    self.kept(true, at, i, out.len(), item, inner);
                    out.push(item.clone());
                }
                for (j, item) in clist.iter().enumerate() {
                    self.kept(false, at, j, out.len(), item, inner);
                    out.push(item.clone());
                }
                return out;
            }
            ListRule::Keyed => None,
            ListRule::Shared(h) => Some(h),
        };
        // The child's entries by key, across the lists sharing the handle.
        let mut child_keys: HashMap<Cow<str>, (&str, usize)> = HashMap::new();
        for f in obj.fields.iter().filter(|f| f.exists(self.level)) {
            let Some(fname) = f.ignition else { continue };
            let same_handle = match (handle, f.list) {
                (Some(h), ListRule::Shared(fh)) => h == fh,
                (None, _) => fname == name,
                _ => false,
            };
            let Ty::List(finner) = &f.ty else { continue };
            if !same_handle {
                continue;
            }
            for (j, item) in items(c.get(fname)).iter().enumerate() {
                child_keys.insert(entry_key(finner, item), (fname, j));
            }
        }
        let parent_keys: HashSet<Cow<str>> = plist.iter().map(|i| entry_key(inner, i)).collect();
        for (i, item) in plist.iter().enumerate() {
            let key = entry_key(inner, item);
            match child_keys.get(&key) {
                Some(&(list, j)) if list == name => {
                    let citem = &clist[j];
                    match (inner, item.as_object(), citem.as_object()) {
                        (Ty::Obj(o), Some(pm), Some(cm)) => {
                            if name == "httpHeaders" && cm.get("value").is_none_or(Value::is_null) {
                                continue;
                            }
                            let paths = Paths {
                                parent: format!("{}.{i}", at.parent),
                                child: format!("{}.{j}", at.child),
                                result: format!("{}.{}", at.result, out.len()),
                            };
                            self.moved(true, at, i, out.len());
                            self.moved(false, at, j, out.len());
                            out.push(Value::Object(self.object(pm, cm, o, &paths)));
                        }
                        _ => {
                            self.dropped(true, at, i);
                            self.kept(false, at, j, out.len(), citem, inner);
                            out.push(citem.clone());
                        }
                    }
                }
                // In another list of the child: that list wins.
                Some(_) => self.dropped(true, at, i),
                None => {
                    self.kept(true, at, i, out.len(), item, inner);
                    out.push(item.clone());
                }
            }
        }
        for (j, item) in clist.iter().enumerate() {
            let key = entry_key(inner, item);
            if !parent_keys.contains(&key) {
                self.kept(false, at, j, out.len(), item, inner);
                out.push(item.clone());
            } else if child_keys.get(&key) != Some(&(name, j)) {
                self.dropped(false, at, j);
            }
        }
        out
    }

    /// An entry taken whole: traced only if it carries a value.
    fn kept(&mut self, parent: bool, at: &Paths, from: usize, to: usize, item: &Value, ty: &Ty) {
        if carries_value(item, ty, self.level) {
            self.moved(parent, at, from, to);
        } else {
            self.dropped(parent, at, from);
        }
    }

    fn dropped(&mut self, parent: bool, at: &Paths, from: usize) {
        let (moves, base) = if parent {
            (&mut self.parent_moves, &at.parent)
        } else {
            (&mut self.child_moves, &at.child)
        };
        moves.insert(format!("{base}.{from}"), None);
    }

    fn moved(&mut self, parent: bool, at: &Paths, from: usize, to: usize) {
        let (moves, base) = if parent {
            (&mut self.parent_moves, &at.parent)
        } else {
            (&mut self.child_moves, &at.child)
        };
        moves.insert(
            format!("{base}.{from}"),
            Some(format!("{}.{to}", at.result)),
        );
    }
}

/// Whether Ignition's merge transcript records anything for `v`: a set
/// pointer, a non-zero value field, or such a thing inside.
fn carries_value(v: &Value, ty: &Ty, level: Level) -> bool {
    match (ty, v) {
        (Ty::Obj(obj), Value::Object(m)) => obj
            .fields
            .iter()
            .filter(|f| f.exists(level))
            .filter_map(|f| Some((f, m.get(f.ignition?)?)))
            .any(|(f, fv)| match &f.ty {
                Ty::Obj(_) | Ty::List(_) => carries_value(fv, &f.ty, level),
                _ if f.plain(level) => !is_zero_scalar(fv),
                _ => !fv.is_null(),
            }),
        (Ty::List(inner), Value::Array(items)) => {
            items.iter().any(|i| carries_value(i, inner, level))
        }
        (_, scalar) => !is_zero_scalar(scalar),
    }
}

fn is_zero_scalar(v: &Value) -> bool {
    matches!(v, Value::Null | Value::Bool(false)) || v == "" || v == 0
}

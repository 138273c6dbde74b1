//! The editor definitions in `lua/labrun.lua` document every resource kind
//! and every field the engine accepts, so LuaLS users see the whole API.

use labrun::aws::kinds::KINDS;

/// The text of the props type of `Lab:<kind>`: its `---@class` block, or
/// the inline table after `---@param props`.
fn props_doc<'a>(defs: &'a str, kind: &str) -> Option<&'a str> {
    let at = defs.find(&format!("function Lab:{kind}("))?;
    let before = &defs[..at];
    let param = before.rfind("---@param props ")?;
    let ty = before[param + "---@param props ".len()..]
        .lines()
        .next()?
        .trim();
    if ty.starts_with('{') {
        return Some(ty);
    }
    let class = defs.find(&format!("---@class {ty}\n"))?;
    let end = defs[class..].find("\n\n").map_or(defs.len(), |e| class + e);
    Some(&defs[class..end])
}

#[test]
fn every_kind_and_field_is_documented_for_editors() {
    let defs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/lua/labrun.lua")).unwrap();
    let mut missing = Vec::new();
    for kind in KINDS {
        let schema = kind.schema();
        let Some(doc) = props_doc(&defs, schema.kind) else {
            missing.push(format!("Lab:{}", schema.kind));
            continue;
        };
        for field in schema.fields {
            if field.doc.starts_with("set by labrun") {
                continue;
            }
            let documented = doc.contains(&format!("---@field {} ", field.name))
                || doc.contains(&format!("---@field {}? ", field.name))
                || doc.contains(&format!(" {}: ", field.name))
                || doc.contains(&format!(" {}?: ", field.name));
            if !documented {
                missing.push(format!("{}.{}", schema.kind, field.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "lua/labrun.lua lacks: {}",
        missing.join(", ")
    );
}

//! Editor support covers the whole API: every function of the `labrun`
//! global has a LuaLS definition in `lua/`, and every function a stdlib
//! module exports carries a `---` doc comment (LuaLS reads the stdlib
//! itself, from the folder `labrun setup` writes out).

use std::path::Path;

/// Dotted names of the functions under `t`, e.g. `labrun.ssh.node`.
fn functions(prefix: &str, t: &mlua::Table, out: &mut Vec<String>) {
    for pair in t.pairs::<String, mlua::Value>() {
        let (k, v) = pair.unwrap();
        let name = format!("{prefix}.{k}");
        match v {
            mlua::Value::Function(_) => out.push(name),
            mlua::Value::Table(inner) => functions(&name, &inner, out),
            _ => {}
        }
    }
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()) {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "lua") {
            out.push(p);
        }
    }
}

#[test]
fn every_host_function_has_a_definition() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut defs = Vec::new();
    files(&root.join("lua"), &mut defs);
    let defs: String = defs
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let lua = labrun::lua::bare(labrun::session::kinds()).unwrap();
    let mut names = Vec::new();
    functions("labrun", &lua.globals().get("labrun").unwrap(), &mut names);
    assert!(names.len() > 20, "{names:?}");
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !defs.contains(&format!("function {n}(")))
        .collect();
    assert!(missing.is_empty(), "lua/ has no definition of {missing:?}");
}

#[test]
fn every_stdlib_function_is_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut modules = Vec::new();
    files(&root.join("stdlib"), &mut modules);
    let mut missing = Vec::new();
    for path in &modules {
        let code = std::fs::read_to_string(path).unwrap();
        let lines: Vec<&str> = code.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            // Exported: `function module.name(`, not a local function.
            let Some(rest) = line.strip_prefix("function ") else {
                continue;
            };
            if !rest
                .split('(')
                .next()
                .unwrap_or_default()
                .contains(['.', ':'])
            {
                continue;
            }
            if i == 0 || !lines[i - 1].trim_start().starts_with("---") {
                missing.push(format!(
                    "{}:{}: {}",
                    path.strip_prefix(root).unwrap().display(),
                    i + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(missing.is_empty(), "undocumented:\n{}", missing.join("\n"));
}

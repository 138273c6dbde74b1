//! `labrun.check(name, fn, { after = {...}, timeout = 60 })`: checks that
//! prove a lab that is up works (a private node reaches the internet, etcd
//! is healthy...). `fn(live)` gets the live context after-up steps get and
//! returns nothing or `true` when the check passes, `false` or a reason
//! when not; an error is a failure with its message. Checks run after the
//! after-up steps of `up` and on demand (`labrun check`), independent ones
//! at the same time, each within its deadline; they change nothing.

use super::live::Live;
use super::tasks::{self, Kind, Outcome};
use crate::lua::error::ScriptError;
use mlua::{Lua, Table};
use std::collections::BTreeSet;

/// Adds `labrun.check`.
pub fn register(lua: &Lua, labrun: &Table) -> mlua::Result<()> {
    labrun.set("check", tasks::declaring(lua, Kind::Check)?)
}

/// Names of the declared checks, in order.
pub fn names(lua: &Lua) -> Vec<String> {
    tasks::names(lua, Kind::Check)
}

/// The checks `asked` names and every check they need first, or the
/// names that are no declared check.
pub fn needed(lua: &Lua, asked: &[String]) -> Result<BTreeSet<String>, Vec<String>> {
    let waits = tasks::waits(lua, Kind::Check);
    let unknown: Vec<String> = (asked.iter())
        .filter(|a| !waits.iter().any(|(n, _)| n == *a))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(unknown);
    }
    let mut needed = BTreeSet::new();
    let mut todo: Vec<String> = asked.to_vec();
    while let Some(name) = todo.pop() {
        if needed.insert(name.clone())
            && let Some((_, after)) = waits.iter().find(|(n, _)| *n == name)
        {
            todo.extend(after.iter().cloned());
        }
    }
    Ok(needed)
}

/// Runs the checks `wanted` names (all when `None`); `on_done` sees each
/// end. Returns the outcome of each check run, in declaration order.
pub async fn run(
    lua: &Lua,
    live: &Live,
    wanted: Option<&BTreeSet<String>>,
    on_done: impl Fn(&str, &Outcome),
) -> Result<Vec<(String, Outcome)>, ScriptError> {
    let wanted = |name: &str| wanted.is_none_or(|w| w.contains(name));
    let outcomes = tasks::run(lua, Kind::Check, live, wanted, |_| {}, on_done).await?;
    Ok(outcomes
        .into_iter()
        .filter(|(_, o)| *o != Outcome::LeftOut)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab(code: &str) -> Lua {
        let lua = Lua::new();
        let labrun = lua.create_table().unwrap();
        register(&lua, &labrun).unwrap();
        lua.globals().set("labrun", labrun).unwrap();
        lua.load(code).exec().unwrap();
        lua
    }

    async fn outcomes(lua: &Lua, wanted: Option<&BTreeSet<String>>) -> Vec<(String, Outcome)> {
        run(lua, &Live::default(), wanted, |_, _| {}).await.unwrap()
    }

    fn reason(o: &Outcome) -> &str {
        match o {
            Outcome::Failed { reason, .. } => reason,
            other => panic!("not a failure: {other:?}"),
        }
    }

    #[tokio::test]
    async fn what_a_check_returns_decides_whether_it_passes() {
        let lua = lab(r#"
            labrun.check("nothing", function() end)
            labrun.check("true", function() return true end)
            labrun.check("false", function() return false end)
            labrun.check("reason", function() return "no route to 1.1.1.1" end)
            labrun.check("error", function() error("curl: (6) Could not resolve host") end)
            labrun.check("number", function() return 3 end)
            labrun.check("after error", function() end, { after = "error" })
        "#);
        let out = outcomes(&lua, None).await;
        let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "nothing",
                "true",
                "false",
                "reason",
                "error",
                "number",
                "after error"
            ]
        );
        assert!(matches!(out[0].1, Outcome::Done(_)));
        assert!(matches!(out[1].1, Outcome::Done(_)));
        assert_eq!(reason(&out[2].1), "returned false");
        assert_eq!(reason(&out[3].1), "no route to 1.1.1.1");
        assert!(
            reason(&out[4].1).ends_with("curl: (6) Could not resolve host"),
            "{:?}",
            out[4].1
        );
        assert!(
            !reason(&out[4].1).contains("traceback"),
            "one line: {:?}",
            out[4].1
        );
        assert!(reason(&out[5].1).starts_with("returned a integer"));
        assert_eq!(out[6].1, Outcome::Skipped("error".into()));
    }

    #[tokio::test]
    async fn asking_for_one_check_runs_those_it_needs_first() {
        let lua = lab(r#"
            labrun.check("a", function() end)
            labrun.check("b", function() end, { after = "a" })
            labrun.check("c", function() end, { after = { "b" } })
            labrun.check("d", function() end)
        "#);
        let wanted = needed(&lua, &["c".into()]).unwrap();
        assert_eq!(wanted.iter().collect::<Vec<_>>(), ["a", "b", "c"]);
        let out = outcomes(&lua, Some(&wanted)).await;
        let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"], "d is not run");
        assert_eq!(
            needed(&lua, &["a".into(), "x".into(), "y".into()]),
            Err(vec!["x".to_string(), "y".to_string()])
        );
    }

    /// A lab with `labrun.sleep` too.
    fn sleeping_lab(code: &str) -> Lua {
        let lua = lab("");
        let labrun: Table = lua.globals().get("labrun").unwrap();
        super::super::steps::register(&lua, &labrun).unwrap();
        lua.load(code).exec().unwrap();
        lua
    }

    #[tokio::test]
    async fn independent_checks_run_at_the_same_time_and_one_that_needs_them_after() {
        // a and b each wait for the other to have started: they pass only
        // when run at the same time.
        let lua = sleeping_lab(
            r#"
            local started = {}
            local function meet(me, other)
              return function()
                started[me] = true
                for _ = 1, 100 do
                  if started[other] then return end
                  labrun.sleep(0.01)
                end
                return other .. " never started"
              end
            end
            labrun.check("a", meet("a", "b"))
            labrun.check("b", meet("b", "a"))
            labrun.check("c", function()
              if not (started.a and started.b) then return "ran before a and b" end
            end, { after = { "a", "b" } })
        "#,
        );
        let out = outcomes(&lua, None).await;
        assert!(
            out.iter().all(|(_, o)| matches!(o, Outcome::Done(_))),
            "{out:?}"
        );
    }

    #[tokio::test]
    async fn a_check_past_its_deadline_fails() {
        let lua = sleeping_lab(
            r#"labrun.check("slow", function() labrun.sleep(5) end, { timeout = 0.2 })"#,
        );
        let out = outcomes(&lua, None).await;
        assert_eq!(
            reason(&out[0].1),
            "did not finish within 0.2 s (its timeout)"
        );
    }
}

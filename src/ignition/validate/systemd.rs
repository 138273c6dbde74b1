//! Units and drop-ins: names, contents that systemd can read, and install
//! sections for enabled units.

use std::collections::HashMap;

use serde_json::Value;

use super::unit_file::option_sections;
use super::{Checker, extension, is_true, list, not_empty, text};

const UNIT_EXTENSIONS: [&str; 12] = [
    ".service",
    ".socket",
    ".device",
    ".mount",
    ".automount",
    ".swap",
    ".target",
    ".path",
    ".timer",
    ".snapshot",
    ".slice",
    ".scope",
];

/// The options' sections of unit contents, or Ignition's message.
fn parse(contents: &str) -> Result<Vec<String>, String> {
    option_sections(contents).map_err(|e| format!("invalid unit content: {e}"))
}

fn has_install(sections: &[String]) -> bool {
    sections.iter().any(|s| s == "Install")
}

/// `foo` of an instance unit `foo@bar.service`.
fn template_prefix(name: &str) -> Option<&str> {
    let start = name.char_indices().nth(1).map_or(name.len(), |(i, _)| i);
    let at = name[start..].find('@')? + start;
    let instance = name[at + 1..].strip_suffix(".service")?;
    (!instance.is_empty()).then(|| &name[..at])
}

impl Checker<'_> {
    pub(super) fn systemd(&mut self, systemd: &Value, at: &str) {
        let units = list(systemd, "units");
        self.instance_templates(units, at);
        for (i, unit) in units.iter().enumerate() {
            let uat = format!("{at}.units.{i}");
            let name = text(unit, "name").unwrap_or("");
            if !UNIT_EXTENSIONS.contains(&extension(name)) {
                self.error(&format!("{uat}.name"), "invalid systemd unit extension");
            }
            let contents = text(unit, "contents");
            let cat = format!("{uat}.contents");
            let sections = match contents.map(parse) {
                None => Some(Vec::new()),
                Some(Ok(s)) => Some(s),
                Some(Err(e)) => {
                    self.error(&cat, e);
                    None
                }
            };
            let check_install = is_true(unit, "enabled") && not_empty(unit, "contents");
            if check_install && sections.is_some_and(|s| !has_install(&s)) {
                self.warn(
                    &cat,
                    format!("unit {name:?} is enabled, but has no install section so enable does nothing"),
                );
            }
            for (j, dropin) in list(unit, "dropins").iter().enumerate() {
                let dat = format!("{uat}.dropins.{j}");
                if let Some(Err(e)) = text(dropin, "contents").map(parse) {
                    self.error(&format!("{dat}.contents"), e);
                }
                if extension(text(dropin, "name").unwrap_or("")) != ".conf" {
                    self.error(&format!("{dat}.name"), "invalid systemd drop-in extension");
                }
            }
        }
    }

    /// An enabled instance of a template unit the config writes needs the
    /// template to have an install section.
    fn instance_templates(&mut self, units: &[Value], at: &str) {
        let by_name: HashMap<&str, &Value> = units
            .iter()
            .map(|u| (text(u, "name").unwrap_or(""), u))
            .collect();
        for (i, unit) in units.iter().enumerate() {
            let name = text(unit, "name").unwrap_or("");
            let Some(prefix) = template_prefix(name).filter(|_| is_true(unit, "enabled")) else {
                continue;
            };
            let template = format!("{prefix}@.service");
            let Some(contents) = by_name
                .get(template.as_str())
                .and_then(|t| text(t, "contents"))
                .filter(|c| !c.is_empty())
            else {
                continue;
            };
            if let Ok(sections) = parse(contents)
                && !has_install(&sections)
            {
                self.warn(
                    &format!("{at}.units.{i}.contents"),
                    format!("template unit {template:?} for {name:?} doesn't have Install section"),
                );
            }
        }
    }
}

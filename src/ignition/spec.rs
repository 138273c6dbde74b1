//! The stable Butane fcos specs and the Ignition spec each one produces.
//!
//! A spec *level* is an index into [`SPECS`]: 0 for fcos 1.0.0 up to 7 for
//! fcos 1.7.0. An Ignition version has the level of the last fcos spec that
//! produces it (fcos 1.2.0 and 1.3.0 both produce Ignition 3.2.0, which has
//! level 3), so one level orders both families of fields.

pub(crate) type Level = u8;

/// (fcos version, Ignition version), oldest first.
pub(crate) const SPECS: [(&str, &str); 8] = [
    ("1.0.0", "3.0.0"),
    ("1.1.0", "3.1.0"),
    ("1.2.0", "3.2.0"),
    ("1.3.0", "3.2.0"),
    ("1.4.0", "3.3.0"),
    ("1.5.0", "3.4.0"),
    ("1.6.0", "3.5.0"),
    ("1.7.0", "3.6.0"),
];

pub(crate) const FCOS_1_1: Level = 1;
pub(crate) const FCOS_1_2: Level = 2;
pub(crate) const FCOS_1_3: Level = 3;
pub(crate) const FCOS_1_4: Level = 4;
pub(crate) const FCOS_1_5: Level = 5;
pub(crate) const FCOS_1_6: Level = 6;
pub(crate) const FCOS_1_7: Level = 7;

/// Levels at which an Ignition spec version first applies.
pub(crate) const IGN_3_1: Level = FCOS_1_1;
pub(crate) const IGN_3_2: Level = FCOS_1_2;
pub(crate) const IGN_3_3: Level = FCOS_1_4;
pub(crate) const IGN_3_4: Level = FCOS_1_5;
pub(crate) const IGN_3_5: Level = FCOS_1_6;
pub(crate) const IGN_3_6: Level = FCOS_1_7;

/// Beyond every level: a field never removed.
pub(crate) const NEVER: Level = SPECS.len() as Level;

/// The level of an fcos spec version ("1.4.0").
pub(crate) fn butane_level(version: &str) -> Option<Level> {
    SPECS
        .iter()
        .position(|(butane, _)| *butane == version)
        .map(|i| i as Level)
}

/// The level of an Ignition spec version ("3.2.0").
pub(crate) fn ignition_level(version: &str) -> Option<Level> {
    SPECS
        .iter()
        .rposition(|(_, ign)| *ign == version)
        .map(|i| i as Level)
}

/// The Ignition version produced at `level`.
pub(crate) fn ignition_version(level: Level) -> &'static str {
    SPECS[usize::from(level)].1
}

/// "fcos 1.0.0 to 1.7.0", for messages.
pub(crate) fn butane_range() -> String {
    format!("fcos {} to {}", SPECS[0].0, SPECS[SPECS.len() - 1].0)
}

/// "3.0.0 to 3.6.0", for messages.
pub(crate) fn ignition_range() -> String {
    format!("{} to {}", SPECS[0].1, SPECS[SPECS.len() - 1].1)
}

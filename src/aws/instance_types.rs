//! The EC2 instance types there are, with their architectures and memory,
//! so a misspelt type is caught by `plan` with the nearest names suggested.

use std::collections::HashMap;
use std::sync::LazyLock;

/// One instance type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceType {
    pub name: &'static str,
    /// `x86_64`, `arm64`, ...
    pub archs: Vec<&'static str>,
    pub memory_mib: u64,
}

static TYPES: LazyLock<HashMap<&'static str, InstanceType>> = LazyLock::new(|| {
    include_str!("instance_types.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let mut parts = l.split(' ');
            let name = parts.next()?;
            let archs = parts.next()?.split(',').collect();
            let memory_mib = parts.next()?.parse().ok()?;
            Some((
                name,
                InstanceType {
                    name,
                    archs,
                    memory_mib,
                },
            ))
        })
        .collect()
});

/// The instance type called `name`.
pub fn find(name: &str) -> Option<&'static InstanceType> {
    TYPES.get(name)
}

/// "'NAME' is not an EC2 instance type (did you mean ...?)".
pub fn unknown(name: &str) -> String {
    format!(
        "type '{name}' is not an EC2 instance type{}",
        crate::suggest::did_you_mean(name, TYPES.keys().copied())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_types_with_their_architecture_and_memory() {
        let small = find("t4g.small").unwrap();
        assert_eq!(small.archs, ["arm64"]);
        assert_eq!(small.memory_mib, 2048);
        assert_eq!(find("t3.nano").unwrap().archs, ["x86_64"]);
        assert!(TYPES.len() > 1000);
        assert!(
            unknown("t4g.nanoo").contains("did you mean t4g.nano"),
            "{}",
            unknown("t4g.nanoo")
        );
    }
}

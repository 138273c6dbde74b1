//! Readying a declaration for plan and apply: what the provider adds (e.g.
//! storage for user data over EC2's limit), then every check. The Lua host
//! only produces the declaration; this is the engine's part.

use super::decl::{DeclError, Declaration};
use super::provider::Provider;

/// Expands `decl` with what the provider needs, then checks references,
/// cycles, each resource against its kind's schema, and the provider's
/// cross-resource rules. Nothing is called in the cloud.
pub fn prepare(decl: &mut Declaration, provider: &dyn Provider) -> Result<(), DeclError> {
    provider.expand(decl)?;
    decl.validate(&|k| provider.schema(k))?;
    provider.validate(decl)
}

//! A lab with a time to live: every instance terminates when it powers off,
//! so the power-off timer its Ignition carries (see `stdlib/labrun/coreos.lua`)
//! ends its billing even if the machine that made the lab is gone.

use super::validate::fail;
use crate::engine::decl::{DeclError, Declaration};
use crate::engine::value::Value;

/// Sets `shutdown_behavior = "terminate"` on every instance of a lab with a
/// TTL; an instance that asks for `"stop"` is an error.
pub fn expand(decl: &mut Declaration) -> Result<(), DeclError> {
    if decl.expires.is_none() {
        return Ok(());
    }
    for r in decl.resources.values_mut().filter(|r| r.kind == "instance") {
        match r.props.get("shutdown_behavior") {
            Some(Value::Str(b)) if b == "stop" => {
                return Err(fail(
                    r,
                    "shutdown_behavior = \"stop\" but the lab has a ttl: its instances must terminate when they power off at expiry".into(),
                ));
            }
            _ => {
                r.props
                    .insert("shutdown_behavior".into(), Value::Str("terminate".into()));
            }
        }
    }
    Ok(())
}

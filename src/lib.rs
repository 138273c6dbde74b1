//! labrun: cheap, throw-away AWS labs from Lua scripts.

pub mod aws;
pub mod engine;

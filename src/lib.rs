//! labrun: cheap, throw-away AWS labs from Lua scripts.

pub mod aws;
pub mod cli;
pub mod cost;
pub mod engine;
pub mod ignition;
pub mod lua;
pub mod pki;
pub mod ssh;
pub mod wireguard;

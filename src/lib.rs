//! labrun: cheap, throw-away AWS labs from Lua scripts.

pub mod aws;
pub mod cli;
pub mod cost;
pub mod engine;
pub mod graph;
pub mod ignition;
pub mod lab_folder;
pub mod lua;
pub mod pki;
pub mod public_ip;
pub mod repl;
pub mod secrets;
pub mod session;
pub mod ssh;
pub mod suggest;
pub mod wireguard;

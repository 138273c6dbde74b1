//! The declarative engine: resource model, plan, parallel apply and destroy,
//! the crash-safe state and its lock. It never sees Lua and never calls a
//! cloud API itself: a [`provider::Provider`] does.

pub mod apply;
pub mod decl;
pub mod delete;
pub mod destroy;
pub mod gone;
pub mod graph;
pub mod journal;
pub mod lock;
pub mod plan;
pub mod prepare;
pub mod progress;
pub mod provider;
pub mod schema;
pub mod state;
pub mod value;
pub mod walk;

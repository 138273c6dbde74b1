//! How the engine tells the user what it is doing.

/// The kind of operation on a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    Create,
    Update,
    Delete,
}

impl Verb {
    /// `creating`, `updating`, `deleting`.
    pub fn ing(self) -> &'static str {
        match self {
            Verb::Create => "creating",
            Verb::Update => "updating",
            Verb::Delete => "deleting",
        }
    }
    /// `created`, `updated`, `deleted`.
    pub fn ed(self) -> &'static str {
        match self {
            Verb::Create => "created",
            Verb::Update => "updated",
            Verb::Delete => "deleted",
        }
    }
}

/// Receives progress events; implementations draw live lines or print plain ones.
pub trait Progress: Send + Sync {
    /// An operation on `address` started.
    fn start(&self, address: &str, verb: Verb);
    /// It ended; `Ok(detail)` (e.g. the new ID) or `Err(message)`.
    fn finish(&self, address: &str, verb: Verb, result: Result<&str, &str>);
    /// A free-form line (waiting, retrying, sweeping...).
    fn note(&self, message: &str);
}

//! Retrying connection attempts with exponential backoff until a deadline, for
//! nodes whose sshd is not up yet.

use std::future::Future;

use tokio::time::Instant;

use super::{ConnectOptions, SshError};

/// How one attempt failed.
pub(super) enum Failure {
    /// Worth another try (refused, reset, timed out, not routable yet).
    Transient(String),
    /// Retrying cannot help (wrong host key, authentication refused).
    Fatal(SshError),
}

/// Calls `attempt` until it succeeds, fails fatally, or `deadline` passes.
/// Each call is cut off after `opts.attempt_timeout` (or what is left).
pub(super) async fn retry<T, F, Fut>(
    host: &str,
    deadline: Instant,
    opts: &ConnectOptions,
    mut attempt: F,
) -> Result<T, SshError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let start = Instant::now();
    let mut backoff = opts.initial_backoff;
    let mut last = String::from("no attempt made");
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(SshError::ConnectTimeout {
                host: host.to_string(),
                waited: start.elapsed(),
                last,
            });
        }
        let limit = opts.attempt_timeout.min(remaining);
        match tokio::time::timeout(limit, attempt()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(Failure::Fatal(error))) => return Err(error),
            Ok(Err(Failure::Transient(why))) => last = why,
            Err(_) => last = format!("no answer within {limit:?}"),
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(backoff.min(remaining)).await;
        backoff = (backoff * 2).min(opts.max_backoff);
    }
}

/// Whether a russh error met while connecting may go away on its own.
pub(super) fn is_transient(error: &russh::Error) -> bool {
    use russh::{ChannelOpenFailure, Error as E};
    matches!(
        error,
        E::IO(_)
            | E::Disconnect
            | E::HUP
            | E::ConnectionTimeout
            | E::KeepaliveTimeout
            | E::SendError
            | E::RecvError
            | E::Elapsed(_)
            | E::ChannelOpenFailure(
                ChannelOpenFailure::ConnectFailed | ChannelOpenFailure::ResourceShortage
            )
    )
}

//! Turning SDK errors into engine errors with a class and a readable
//! message, and telling which failures are worth another attempt.

use crate::engine::provider::{ErrorClass, ProviderError};
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::http::Response;

/// An SDK error of an operation whose modelled errors are `E`.
pub type Sdk<E> = SdkError<E, Response>;

/// Classifies a failed call of operation `op`.
pub fn classify<E>(op: &str, err: Sdk<E>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = err.code().unwrap_or_default().to_string();
    let class = if code.ends_with("NotFound")
        || code.ends_with("NotAttached")
        || code.starts_with("NoSuch")
        || code.ends_with(".Malformed") && code.contains("ID")
    {
        ErrorClass::NotFound
    } else if code == "DependencyViolation"
        || code.contains("InUse")
        || code == "ResourceInUse"
        || code == "BucketNotEmpty"
    {
        ErrorClass::DependencyViolation
    } else {
        ErrorClass::Other
    };
    let message = match (err.code(), err.message()) {
        (Some(code), Some(msg)) => format!("{op}: {code}: {msg}"),
        (Some(code), None) => format!("{op}: {code}"),
        _ => format!("{op}: {}", cause(&err)),
    };
    ProviderError::new(class, message)
}

/// What went wrong in one line: the outermost error and its innermost
/// cause (`dispatch failure: Connection refused (os error 111)`), never the
/// SDK's debug dump.
pub fn cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost = err;
    while let Some(next) = innermost.source() {
        innermost = next;
    }
    let (outer, inner) = (err.to_string(), innermost.to_string());
    if std::ptr::addr_eq(innermost, err) || outer.contains(&inner) {
        outer
    } else {
        format!("{outer}: {inner}")
    }
}

/// How a failed call may have ended, for deciding on another attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Turned away (throttled, overloaded) before anything was done.
    Rejected,
    /// The connection was refused: nothing was sent, and the endpoint is
    /// likely wrong or down rather than busy.
    Refused,
    /// Perhaps done, its answer lost: a reset, a timeout, an internal error.
    Ambiguous,
    /// An answer that another attempt would not change.
    Final,
}

/// Error codes of AWS services saying "too many requests, slow down".
const THROTTLED: &[&str] = &[
    "RequestLimitExceeded",
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "SlowDown",
    "EC2ThrottledException",
    "PriorRequestNotComplete",
];

/// Error codes of internal failures that may have done the work.
const INTERNAL: &[&str] = &[
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "Unavailable",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// What kind of failure `err` is.
pub fn failure<E>(err: &Sdk<E>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    match err {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => Failure::Ambiguous,
        SdkError::DispatchFailure(d) if d.is_user() => Failure::Final,
        SdkError::DispatchFailure(_) if refused(err) => Failure::Refused,
        SdkError::DispatchFailure(_) => Failure::Ambiguous,
        SdkError::ServiceError(_) => {
            let code = err.code().unwrap_or_default();
            if THROTTLED.contains(&code) || status == Some(503) || status == Some(429) {
                Failure::Rejected
            } else if INTERNAL.contains(&code) || status.is_some_and(|s| s >= 500) {
                Failure::Ambiguous
            } else {
                Failure::Final
            }
        }
        _ => Failure::Final,
    }
}

/// Whether a connection was refused somewhere in `err`'s causes.
fn refused(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(e) = next {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        next = e.source();
    }
    false
}

/// A short reason for a failure: the error code, or what went wrong with
/// the connection.
pub fn reason<E>(err: &Sdk<E>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err.code() {
        Some(code) => code.to_string(),
        None => cause(err),
    }
}

/// An error for an answer that lacks what it should carry.
pub fn missing(op: &str, what: &str) -> ProviderError {
    ProviderError::other(format!("{op}: the answer has no {what}"))
}

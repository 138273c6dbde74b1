//! Turning SDK errors into engine errors with a class and a readable message.

use crate::engine::provider::{ErrorClass, ProviderError};
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};

/// Classifies a failed call of operation `op`.
pub fn classify<E, R>(op: &str, err: SdkError<E, R>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = err.code().unwrap_or_default().to_string();
    let class = if code.ends_with("NotFound")
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
    ProviderError { class, message }
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

/// A `map_err` adapter: `.map_err(sdk("CreateVpc"))`.
pub fn sdk<E, R>(op: &'static str) -> impl FnOnce(SdkError<E, R>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    move |e| classify(op, e)
}

/// An error for an answer that lacks what it should carry.
pub fn missing(op: &str, what: &str) -> ProviderError {
    ProviderError::other(format!("{op}: the answer has no {what}"))
}

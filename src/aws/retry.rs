//! Every AWS call goes through here (the SDK's own retries are off): a
//! failure that another attempt may cure (throttling, 5xx, a reset, a
//! timeout, a lost answer) is retried with jittered exponential backoff,
//! and each retry is said on the progress. A call that is not safe to
//! repeat gets help: a create without a ClientToken looks for what an
//! attempt whose answer was lost made (by its tags) before it is sent
//! again, and a follow-up call whose repeat fails because the first one
//! was done counts as done.

use super::errors::{Failure, Sdk, classify, failure, missing, reason};
use super::kinds::kind::Cx;
use crate::engine::provider::ProviderError;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use std::future::{Future, Ready};
use std::time::Duration;

/// Attempts per call.
const ATTEMPTS: u32 = 10;
/// Attempts when the connection is refused (a wrong or unreachable
/// endpoint, which waiting hardly cures).
const REFUSED_ATTEMPTS: u32 = 3;
/// The wait before the second attempt; it doubles each time (with jitter).
const FIRST_WAIT: Duration = Duration::from_millis(200);
/// The longest wait between attempts.
const MAX_WAIT: Duration = Duration::from_secs(10);

/// The wait before attempt `attempt + 1`: exponential, capped, and drawn
/// from its upper half so parallel callers spread out.
fn backoff(attempt: u32) -> Duration {
    let full = FIRST_WAIT
        .saturating_mul(1 << (attempt - 1).min(16))
        .min(MAX_WAIT);
    full.mul_f64(0.5 + fastrand::f64() / 2.0)
}

/// Error codes a repeated create meets when its first attempt made the
/// resource after all.
fn duplicate(code: &str) -> bool {
    [
        "Duplicate",
        "Conflict",
        "AlreadyExists",
        "AlreadyOwnedByYou",
    ]
    .iter()
    .any(|d| code.contains(d))
}

/// How a repeated call ended.
enum Ending<A, T> {
    /// Its answer.
    Answered(A),
    /// A repeat failed with one of `done_if` after an attempt whose answer
    /// was lost: that one did it.
    DoneBefore,
    /// What an attempt whose answer was lost made, found by its tags.
    Found(T),
}

/// Runs `call` until it answers, fails for good, or runs out of attempts.
async fn repeat<A, T, E, Fut, F, FindFut>(
    cx: &Cx,
    op: &str,
    call: impl Fn() -> Fut,
    done_if: &[&str],
    find: Option<&F>,
) -> Result<Ending<A, T>, ProviderError>
where
    Fut: Future<Output = Result<A, Sdk<E>>> + Send + 'static,
    A: Send + 'static,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    F: Fn() -> FindFut,
    FindFut: Future<Output = Result<Option<T>, ProviderError>>,
{
    let mut lost = false;
    for attempt in 1.. {
        let answer = {
            let _slot = cx.slots.acquire().await;
            // On the runtime's threads: signing and reading answers is work
            // that should not hold up the walk that sent the call.
            match tokio::spawn(call()).await {
                Ok(answer) => answer,
                Err(e) => return Err(ProviderError::other(format!("{op}: {e}"))),
            }
        };
        let err = match answer {
            Ok(answer) => return Ok(Ending::Answered(answer)),
            Err(e) => e,
        };
        let kind = failure(&err);
        let code = err.code().unwrap_or_default().to_string();
        if lost && done_if.contains(&code.as_str()) {
            cx.note(&format!(
                "{op}: {code} on a repeat: an attempt whose answer was lost did it"
            ));
            return Ok(Ending::DoneBefore);
        }
        if let Some(find) = find
            && (kind == Failure::Ambiguous || duplicate(&code))
            && let Some(made) = find().await?
        {
            cx.note(&format!(
                "{op}: {}; found what it made by its tags and kept it",
                reason(&err)
            ));
            return Ok(Ending::Found(made));
        }
        let attempts = match kind {
            Failure::Refused => REFUSED_ATTEMPTS,
            _ => ATTEMPTS,
        };
        if kind == Failure::Final || attempt >= attempts {
            let mut e = classify(op, err);
            e.changed_nothing = !lost && kind != Failure::Ambiguous;
            if attempt > 1 {
                e.message = format!("{} (after {attempt} attempts)", e.message);
            }
            return Err(e);
        }
        lost |= kind == Failure::Ambiguous;
        let wait = backoff(attempt);
        cx.note(&format!(
            "{op}: {}; retrying in {wait:.1?} (attempt {}/{attempts})",
            reason(&err),
            attempt + 1
        ));
        tokio::time::sleep(wait).await;
    }
    unreachable!("the loop returns by its last attempt")
}

/// No lookup: for calls that are safe to repeat.
type NoFind = fn() -> Ready<Result<Option<()>, ProviderError>>;

/// Sends a call that is safe to repeat (a read, a change to a set value, a
/// create with a ClientToken), retrying what may pass next time.
pub async fn send<A, E, Fut>(cx: &Cx, op: &str, call: impl Fn() -> Fut) -> Result<A, ProviderError>
where
    Fut: Future<Output = Result<A, Sdk<E>>> + Send + 'static,
    A: Send + 'static,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match repeat(cx, op, call, &[], None::<&NoFind>).await? {
        Ending::Answered(answer) => Ok(answer),
        Ending::DoneBefore | Ending::Found(()) => Err(missing(op, "answer")),
    }
}

/// Sends a call whose repeat fails with one of `done_if` when an earlier
/// attempt did the work (a rule already granted, a gateway already
/// attached); `Ok(None)` then, as the first answer was lost.
pub async fn send_once<A, E, Fut>(
    cx: &Cx,
    op: &str,
    done_if: &[&str],
    call: impl Fn() -> Fut,
) -> Result<Option<A>, ProviderError>
where
    Fut: Future<Output = Result<A, Sdk<E>>> + Send + 'static,
    A: Send + 'static,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match repeat(cx, op, call, done_if, None::<&NoFind>).await? {
        Ending::Answered(answer) => Ok(Some(answer)),
        Ending::DoneBefore | Ending::Found(()) => Ok(None),
    }
}

/// Sends a create that takes no ClientToken. After a failure that may have
/// made the resource (a lost answer, a timeout, an internal error) or a
/// duplicate error, `find` looks it up by its tags (lab, address and this
/// create's token) and adopts it, so a repeat never makes a second one.
/// `pick` takes from the answer what `find` gives: what the kind needs of
/// the resource.
pub async fn create<A, T, E, Fut, FindFut>(
    cx: &Cx,
    op: &str,
    call: impl Fn() -> Fut,
    pick: impl FnOnce(A) -> Option<T>,
    find: impl Fn() -> FindFut,
) -> Result<T, ProviderError>
where
    Fut: Future<Output = Result<A, Sdk<E>>> + Send + 'static,
    A: Send + 'static,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    FindFut: Future<Output = Result<Option<T>, ProviderError>>,
{
    let made = match repeat(cx, op, call, &[], Some(&find)).await? {
        Ending::Answered(answer) => pick(answer),
        Ending::Found(made) => Some(made),
        Ending::DoneBefore => None,
    };
    made.ok_or_else(|| missing(op, "resource"))
}

/// Every page of a listing that goes on from a marker (`next` reads the
/// marker of the page after), each page's call retried as [`send`] does.
pub async fn pages<P, E, Fut>(
    cx: &Cx,
    op: &str,
    call: impl Fn(Option<String>) -> Fut,
    next: impl Fn(&P) -> Option<String>,
) -> Result<Vec<P>, ProviderError>
where
    Fut: Future<Output = Result<P, Sdk<E>>> + Send + 'static,
    P: Send + 'static,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (mut all, mut marker) = (Vec::new(), None);
    loop {
        let page = send(cx, op, || call(marker.clone())).await?;
        marker = next(&page);
        all.push(page);
        if marker.is_none() {
            return Ok(all);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_with_jitter() {
        for attempt in 1..=12 {
            let full = FIRST_WAIT.saturating_mul(1 << (attempt - 1)).min(MAX_WAIT);
            let wait = backoff(attempt);
            assert!(wait >= full / 2 && wait <= full, "{attempt}: {wait:?}");
        }
        assert!(backoff(30) <= MAX_WAIT);
    }
}

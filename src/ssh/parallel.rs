//! Doing the same thing on many nodes at once.

use std::future::Future;

use futures::StreamExt;

/// Calls `task` on every item, with at most `limit` (at least 1) in flight at
/// once, and returns the results in the order of `items`, e.g.
/// `parallel(&nodes, 8, |node| node.run("uptime", None, timeout)).await`.
pub async fn parallel<I, F, Fut>(items: I, limit: usize, task: F) -> Vec<Fut::Output>
where
    I: IntoIterator,
    F: FnMut(I::Item) -> Fut,
    Fut: Future,
{
    futures::stream::iter(items)
        .map(task)
        .buffered(limit.max(1))
        .collect()
        .await
}

//! The parallel graph walker: runs each node once all its dependencies are
//! done, with a bounded number in flight (of the ready ones, the first in
//! the graph's order first); the dependents of a failed node are skipped,
//! everything else goes on.

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;

/// How a node ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done,
    Failed(String),
    /// Not run because this node, upstream of it, failed.
    Skipped(usize),
}

/// Walks the graph where `deps[i]` lists the nodes `i` waits for. `run(i)`
/// does node `i`; its future must record its result (e.g. in the state)
/// before it completes, so dependents start only from recorded facts.
pub async fn walk<F, Fut>(deps: &[Vec<usize>], parallelism: usize, run: F) -> Vec<Outcome>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    walk_releasing(deps, parallelism, |i| {
        let fut = run(i);
        async move { fut.await.map(|()| Vec::new()) }
    })
    .await
}

/// [`walk`] where a node may find other nodes needless (nothing to do):
/// `run(i)` gives them, and those not started yet count as done at once,
/// whatever they were waiting for.
pub async fn walk_releasing<F, Fut>(deps: &[Vec<usize>], parallelism: usize, run: F) -> Vec<Outcome>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<Vec<usize>, String>>,
{
    let n = deps.len();
    let mut dependents = vec![Vec::new(); n];
    let mut waiting: Vec<usize> = vec![0; n];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(i);
            waiting[i] += 1;
        }
    }
    let mut outcome: Vec<Option<Outcome>> = vec![None; n];
    let mut started = vec![false; n];
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|&i| waiting[i] == 0).map(Reverse).collect();
    let mut running = FuturesUnordered::new();
    let parallelism = parallelism.max(1);
    loop {
        while running.len() < parallelism {
            let Some(Reverse(i)) = ready.pop() else { break };
            if outcome[i].is_some() {
                continue;
            }
            started[i] = true;
            let fut = run(i);
            running.push(async move { (i, fut.await) });
        }
        let Some((i, result)) = running.next().await else {
            break;
        };
        match result {
            Ok(needless) => {
                let mut done = vec![i];
                done.extend(needless.into_iter().filter(|&j| !started[j]));
                while let Some(d) = done.pop() {
                    if d != i && outcome[d].is_some() {
                        continue;
                    }
                    outcome[d] = Some(Outcome::Done);
                    for &j in &dependents[d] {
                        waiting[j] -= 1;
                        if waiting[j] == 0 && outcome[j].is_none() {
                            ready.push(Reverse(j));
                        }
                    }
                }
            }
            Err(e) => {
                outcome[i] = Some(Outcome::Failed(e));
                let mut stack = dependents[i].clone();
                while let Some(j) = stack.pop() {
                    if outcome[j].is_none() {
                        outcome[j] = Some(Outcome::Skipped(i));
                        stack.extend(dependents[j].iter().copied());
                    }
                }
            }
        }
    }
    outcome
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::Failed("never became ready (cycle)".into())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn runs_in_dependency_order_with_bounded_parallelism() {
        // 0 <- 1 <- 3, 0 <- 2 <- 3, plus independent 4..8
        let mut deps = vec![vec![], vec![0], vec![0], vec![1, 2]];
        deps.extend((0..5).map(|_| vec![]));
        let order = Mutex::new(Vec::new());
        let in_flight = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let out = walk(&deps, 3, |i| {
            let (order, in_flight, peak) = (&order, &in_flight, &peak);
            async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                order.lock().unwrap().push(i);
                in_flight.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            }
        })
        .await;
        assert!(out.iter().all(|o| *o == Outcome::Done));
        let order = order.into_inner().unwrap();
        let pos = |x| order.iter().position(|&y| y == x).unwrap();
        assert!(pos(0) < pos(1) && pos(0) < pos(2) && pos(1) < pos(3) && pos(2) < pos(3));
        assert!(peak.load(Ordering::SeqCst) <= 3);
        assert!(
            peak.load(Ordering::SeqCst) >= 2,
            "independent nodes ran one at a time"
        );
    }

    #[tokio::test]
    async fn of_the_ready_nodes_the_first_in_order_starts_first() {
        let deps = vec![vec![], vec![0], vec![], vec![], vec![0]];
        let order = Mutex::new(Vec::new());
        walk(&deps, 1, |i| {
            let order = &order;
            async move {
                order.lock().unwrap().push(i);
                Ok(())
            }
        })
        .await;
        assert_eq!(order.into_inner().unwrap(), [0, 1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn a_node_found_needless_counts_as_done_and_releases_its_dependents() {
        // 2 waits for 1, which waits for a slow 3; 0 finds 1 needless.
        let deps = vec![vec![], vec![3], vec![1], vec![]];
        let order = Mutex::new(Vec::new());
        let out = walk_releasing(&deps, 4, |i| {
            let order = &order;
            async move {
                if i == 3 {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                order.lock().unwrap().push(i);
                Ok(if i == 0 { vec![1] } else { Vec::new() })
            }
        })
        .await;
        assert!(out.iter().all(|o| *o == Outcome::Done), "{out:?}");
        assert_eq!(
            order.into_inner().unwrap(),
            [0, 2, 3],
            "1 never ran, 2 did not wait for 3"
        );
    }

    #[tokio::test]
    async fn failure_skips_dependents_only() {
        let deps = vec![vec![], vec![0], vec![1], vec![]];
        let out = walk(&deps, 10, |i| async move {
            if i == 0 {
                Err("boom".to_string())
            } else {
                Ok(())
            }
        })
        .await;
        assert_eq!(out[0], Outcome::Failed("boom".into()));
        assert_eq!(out[1], Outcome::Skipped(0));
        assert_eq!(out[2], Outcome::Skipped(0), "names the failure at the root");
        assert_eq!(out[3], Outcome::Done);
    }
}

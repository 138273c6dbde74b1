//! Counts every AWS API call labrun makes, by operation, for the summary.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Operation name → number of calls.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Mutex<BTreeMap<String, usize>>>);

impl CallCounter {
    /// All calls so far.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// (all calls, calls that change something).
    pub fn totals(&self) -> (usize, usize) {
        let counts = self.counts();
        let all = counts.values().sum();
        let mutating = counts
            .iter()
            .filter(|(op, _)| is_mutating(op))
            .map(|(_, n)| n)
            .sum();
        (all, mutating)
    }
}

/// Whether an operation changes anything (everything but reads).
pub fn is_mutating(op: &str) -> bool {
    !["Describe", "Get", "List", "Head"]
        .iter()
        .any(|p| op.starts_with(p))
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "labrun-call-counter"
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<Metadata>() {
            let op = meta.name().to_string();
            tracing::debug!(target: "labrun::aws", "{}:{op}", meta.service());
            *self
                .0
                .lock()
                .map_err(|_| "call counter poisoned")?
                .entry(op)
                .or_default() += 1;
        }
        Ok(())
    }
}

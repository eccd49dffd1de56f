//! confd's metrics, served with `-metrics-addr` (docs/metrics.md). The driver and the modes
//! record into [`Metrics`]; `confd_metrics` serves them with `/health` and `/ready`.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// A template resource, by its file.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResourceLabel {
    pub resource: String,
}

/// A resource and how something ended for it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub resource: String,
    pub outcome: String,
}

type Seconds = Family<ResourceLabel, Histogram, fn() -> Histogram>;

fn seconds() -> Histogram {
    // 1 ms to about 65 s
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

/// Everything confd counts.
pub struct Metrics {
    /// Renders by outcome: `updated` (dest replaced), `unchanged`, `failed`.
    pub renders: Family<OutcomeLabel, Counter>,
    pub render_seconds: Seconds,
    /// Failed `check_cmd`s (also counted as failed renders).
    pub check_failures: Family<ResourceLabel, Counter>,
    /// Reload commands run, by outcome `ok` or `failed`, under the first resource that has it.
    pub reloads: Family<OutcomeLabel, Counter>,
    /// Pushes of push resources, by outcome `ok` or `failed`.
    pub pushes: Family<OutcomeLabel, Counter>,
    /// Reloads and pushes.
    pub reload_seconds: Seconds,
    /// When each resource last rendered without error (Unix seconds).
    pub last_success: Family<ResourceLabel, Gauge<f64, AtomicU64>>,
    /// Batches held by fail static.
    pub held: Family<ResourceLabel, Counter>,
    /// Retries scheduled after a failure.
    pub retries: Family<ResourceLabel, Counter>,
    /// 1 while the store's watch is connected (watch mode), 0 during an outage.
    pub store_up: Gauge,
    /// The newest etcd revision applied to what confd renders from.
    pub store_revision: Gauge,
    /// The etcd revision up to which every change of the watched keys has been applied
    /// (moves with etcd's progress notifications even when the watched keys do not change):
    /// etcd's current revision minus this is how far behind confd is.
    pub store_synced_revision: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            renders: Family::default(),
            render_seconds: Family::new_with_constructor(seconds),
            check_failures: Family::default(),
            reloads: Family::default(),
            pushes: Family::default(),
            reload_seconds: Family::new_with_constructor(seconds),
            last_success: Family::default(),
            held: Family::default(),
            retries: Family::default(),
            store_up: Gauge::default(),
            store_revision: Gauge::default(),
            store_synced_revision: Gauge::default(),
        }
    }
}

impl Metrics {
    /// Registers every metric under `confd_`.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("confd");
        r.register("renders", "Renders of a template resource, by outcome", self.renders.clone());
        r.register(
            "render_duration_seconds",
            "Time to render, check and swap a resource",
            self.render_seconds.clone(),
        );
        r.register(
            "check_failures",
            "Staged files refused by check_cmd",
            self.check_failures.clone(),
        );
        r.register("reloads", "Reload commands run, by outcome", self.reloads.clone());
        r.register(
            "pushes",
            "Pushes of a push resource's membership, by outcome",
            self.pushes.clone(),
        );
        r.register(
            "reload_duration_seconds",
            "Time of a reload command or a push, its confirmation included",
            self.reload_seconds.clone(),
        );
        r.register(
            "last_success_timestamp_seconds",
            "When the resource last rendered without error",
            self.last_success.clone(),
        );
        r.register("held", "Batches held by fail static (max_removal)", self.held.clone());
        r.register("retries", "Retries scheduled after a failure", self.retries.clone());
        r.register(
            "store_up",
            "1 while the store's watch is connected (watch mode)",
            self.store_up.clone(),
        );
        r.register(
            "store_revision",
            "The newest etcd revision applied to the keys confd renders from",
            self.store_revision.clone(),
        );
        r.register(
            "store_synced_revision",
            "The etcd revision up to which every change of the watched keys has been applied",
            self.store_synced_revision.clone(),
        );
    }
}

pub fn resource(path: &std::path::Path) -> ResourceLabel {
    ResourceLabel { resource: path.display().to_string() }
}

pub fn outcome(path: &std::path::Path, outcome: &str) -> OutcomeLabel {
    OutcomeLabel { resource: path.display().to_string(), outcome: outcome.to_string() }
}

//! What confd-register tells an operator with `--metrics-addr HOST:PORT`: `/metrics`
//! (Prometheus), `/health` (the main loop beats) and `/ready` (the first registration
//! decision is made); and systemd, through `confd_metrics::Status` (`READY=1` at that
//! decision, `WATCHDOG=1` as the loop beats).

use std::sync::Arc;

use confd_metrics::Status;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// How a health check ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CheckLabel {
    pub result: String,
}

/// Everything confd-register counts.
#[derive(Default)]
pub struct Metrics {
    /// Instances registered now (the agent: 0 or 1; Docker mode: the containers).
    pub instances: Gauge,
    pub registrations: Counter,
    pub deregistrations: Counter,
    /// Health checks by `result`: `ok` or `failed` (agent mode).
    pub checks: Family<CheckLabel, Counter>,
    pub keepalive_failures: Counter,
    /// Registrations made again after the lease was lost (e.g. etcd away longer than the TTL).
    pub reregistrations: Counter,
}

impl Metrics {
    fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("confd_register");
        r.register("instances", "Instances registered now", self.instances.clone());
        r.register("registrations", "Registrations written", self.registrations.clone());
        r.register("deregistrations", "Registrations removed", self.deregistrations.clone());
        r.register("checks", "Health checks, by result", self.checks.clone());
        r.register(
            "keepalive_failures",
            "Lease keep-alive rounds that failed",
            self.keepalive_failures.clone(),
        );
        r.register(
            "reregistrations",
            "Registrations made again after the lease was lost",
            self.reregistrations.clone(),
        );
    }
}

/// The metrics and the status, shared by the loop and the server.
pub struct Observe {
    pub metrics: Metrics,
    pub status: Arc<Status>,
}

impl Observe {
    /// Starts serving on `addr` if one is given; an address that cannot be bound is an error.
    pub fn start(addr: Option<&str>) -> Result<Arc<Observe>, String> {
        let observe = Arc::new(Observe {
            metrics: Metrics::default(),
            status: Status::new("no registration decision yet"),
        });
        if let Some(addr) = addr {
            let mut registry = Registry::default();
            observe.metrics.register(&mut registry);
            let bound = confd_metrics::serve(addr, Arc::new(registry), observe.status.clone())
                .map_err(|e| format!("--metrics-addr {addr}: cannot listen there: {e}"))?;
            crate::log::info!("serving /metrics, /health and /ready on http://{bound}");
        }
        Ok(observe)
    }

    pub fn check(&self, ok: bool) {
        let result = if ok { "ok" } else { "failed" };
        self.metrics.checks.get_or_create(&CheckLabel { result: result.into() }).inc();
    }

    /// The process is ready (the first decision was made); later calls change nothing.
    pub fn decided(&self) {
        self.status.set_ready(Ok(()));
    }
}

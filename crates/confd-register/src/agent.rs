//! The agent: health check results and signals in, registrations out.
//!
//! Three threads: `health` runs the check every interval and sends each result; `signals`
//! turns SIGTERM/SIGINT into a stop; the main thread owns all state and does every etcd call,
//! so that decisions are taken in one place and in order.
//!
//! State: healthy or not (rise/fall counting, as HAProxy does), the lease (if one is granted)
//! and whether the keys are registered under it. The main thread waits for the next event or
//! until an etcd action is due, then reconciles:
//!
//! - healthy, not registered: grant a lease (unless one is held), write the registration in one
//!   transaction, and from then on keep the lease alive every TTL/3;
//! - registered, keep-alive says the lease is gone (etcd was away longer than the TTL): grant
//!   again and register again ("lease lost");
//! - not healthy, a lease held: revoke it, which deletes every key attached to it at once
//!   (and only those: a key that another agent with the same instance id has re-attached to its
//!   own lease is not touched, which a plain delete would do); if etcd refuses the revocation
//!   for good, delete the keys instead;
//! - a stop signal: the same as unhealthy, once, then exit 0.
//!
//! etcd failures that may pass (unreachable, timeouts) are logged once per outage and the
//! action is retried; failures that will not pass (permission denied, wrong password) end the
//! agent with exit status 1. A keep-alive that works again after an outage rewrites the
//! registration under the same lease, so whatever happened to the keys meanwhile is repaired.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use confd_etcd::{Etcd, EtcdError, Lease};

use crate::check::Check;
use crate::cli::{fmt_duration, Config, Registration};
use crate::log::{error, fatal, info, warning};
use crate::observe::Observe;

pub enum Event {
    Check(Result<(), String>),
    Stop(&'static str),
}

/// Runs the agent until a stop signal (0) or an etcd refusal that will not pass (1).
pub fn run(cfg: Config) -> i32 {
    let (tx, rx) = mpsc::channel();
    // First, so that from here on SIGTERM/SIGINT mean "deregister, then exit".
    if let Err(e) = spawn_signals(tx.clone(), Event::Stop) {
        fatal!("{e}");
        return 1;
    }
    for w in &cfg.warnings {
        warning!("{w}");
    }
    let check = match &cfg.check {
        Check::None => "no health check".to_string(),
        c => format!(
            "check {} every {} ({} while not healthy; timeout {}, rise {}, fall {})",
            c.describe(),
            fmt_duration(cfg.interval),
            fmt_duration(cfg.start_interval),
            fmt_duration(cfg.timeout),
            cfg.rise,
            cfg.fall
        ),
    };
    info!(
        "confd-register {} starting: {}; {check}; lease TTL {}s; etcd {}",
        env!("CARGO_PKG_VERSION"),
        cfg.registration
            .shared
            .iter()
            .chain(&cfg.registration.leased)
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", "),
        cfg.ttl,
        cfg.etcd.endpoints.join(", ")
    );
    let etcd = match Etcd::connect(cfg.etcd.clone()) {
        Ok(e) => e,
        Err(e) => {
            fatal!("{e}");
            return 1;
        }
    };
    let observe = match Observe::start(cfg.metrics_addr.as_deref()) {
        Ok(o) => o,
        Err(e) => {
            fatal!("{e}");
            return 1;
        }
    };
    let mut agent = Agent::new(etcd, &cfg, observe);
    // May we write our keys? Asked without writing anything; a refusal is final.
    match agent.etcd.check_writable(&cfg.registration.all_keys()) {
        Ok(()) => agent.link.reached = true,
        Err(e) => {
            if let Err(code) = agent.etcd_failed("cannot register", e) {
                return code;
            }
        }
    }
    if cfg.check == Check::None {
        agent.set_healthy(true);
        agent.reason = "no health check".into();
        agent.due = Some(Instant::now());
    } else if let Err(e) = spawn_checks(
        cfg.check.clone(),
        Pace { interval: cfg.interval, start_interval: cfg.start_interval, timeout: cfg.timeout },
        agent.healthy.clone(),
        tx,
    ) {
        fatal!("{e}");
        return 1;
    }
    agent.run(rx)
}

struct Agent {
    etcd: Etcd,
    reg: Registration,
    ttl: i64,
    rise: u32,
    fall: u32,
    /// Shared with the health check thread, which checks faster while it is false.
    healthy: Arc<AtomicBool>,
    successes: u32,
    failures: u32,
    /// Why the instance is (or is not) to be registered: said with the (de)registration.
    reason: String,
    /// The last failure logged while not healthy, so a steady failure is logged once.
    last_failure: Option<String>,
    lease: Option<Lease>,
    /// The registration is written under `lease`.
    registered: bool,
    /// When the next etcd action (keep-alive, retry) is due.
    due: Option<Instant>,
    link: Link,
    observe: Arc<Observe>,
}

impl Agent {
    fn new(etcd: Etcd, cfg: &Config, observe: Arc<Observe>) -> Agent {
        Agent {
            etcd,
            reg: cfg.registration.clone(),
            ttl: cfg.ttl,
            rise: cfg.rise,
            fall: cfg.fall,
            healthy: Arc::new(AtomicBool::new(false)),
            successes: 0,
            failures: 0,
            reason: String::new(),
            last_failure: None,
            lease: None,
            registered: false,
            due: None,
            link: Link::default(),
            observe,
        }
    }

    fn run(&mut self, rx: Receiver<Event>) -> i32 {
        loop {
            self.observe.status.beat();
            if self.due.is_some_and(|t| t <= Instant::now()) {
                self.due = None;
                if let Err(code) = self.act() {
                    return code;
                }
            }
            let wait = match self.due {
                Some(t) => t.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(3600),
            };
            match rx.recv_timeout(wait.min(self.observe.status.beat_every())) {
                Ok(Event::Check(r)) => self.on_check(r),
                Ok(Event::Stop(signal)) => return self.stop(signal),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return self.stop("no event source left"),
            }
        }
    }

    /// The etcd action the state calls for.
    fn act(&mut self) -> Result<(), i32> {
        match (self.is_healthy(), self.registered, self.lease) {
            (true, false, _) => self.register(),
            (true, true, Some(lease)) => self.keep_alive(lease),
            (false, _, Some(lease)) => self.deregister(lease),
            _ => Ok(()),
        }
    }

    fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::SeqCst)
    }

    fn set_healthy(&self, healthy: bool) {
        self.healthy.store(healthy, Ordering::SeqCst);
    }

    fn on_check(&mut self, result: Result<(), String>) {
        self.observe.check(result.is_ok());
        self.on_check_result(result);
        if !self.is_healthy() {
            // Decided: not to be registered (yet).
            self.observe.decided();
        }
    }

    fn on_check_result(&mut self, result: Result<(), String>) {
        match result {
            Ok(()) => {
                self.failures = 0;
                self.successes = self.successes.saturating_add(1);
                if !self.is_healthy() && self.successes >= self.rise {
                    self.set_healthy(true);
                    self.last_failure = None;
                    self.reason = match self.successes {
                        1 => "healthy after 1 check".into(),
                        n => format!("healthy after {n} checks"),
                    };
                    self.due = Some(Instant::now());
                }
            }
            Err(why) => {
                self.successes = 0;
                self.failures = self.failures.saturating_add(1);
                if self.is_healthy() && self.failures >= self.fall {
                    self.set_healthy(false);
                    self.reason = match self.failures {
                        1 => format!("health check failed: {why}"),
                        n => format!("health check failed {n} times: {why}"),
                    };
                    if self.lease.is_none() {
                        info!("{}; nothing is registered", self.reason);
                    }
                    self.last_failure = Some(why);
                    self.due = Some(Instant::now());
                } else if self.is_healthy() {
                    warning!("health check failed ({}/{}): {why}", self.failures, self.fall);
                } else if self.last_failure.as_deref() != Some(why.as_str()) {
                    info!("not healthy: {why}");
                    self.last_failure = Some(why);
                }
            }
        }
    }

    fn register(&mut self) -> Result<(), i32> {
        let lease = match self.lease {
            Some(l) => l,
            None => match self.etcd.grant(self.ttl) {
                Ok(l) => {
                    self.lease = Some(l);
                    l
                }
                Err(e) => {
                    return self.etcd_failed(&format!("cannot register ({})", self.reason), e)
                }
            },
        };
        match self.etcd.register(lease.id, &self.reg.shared, &self.reg.leased) {
            Ok(()) => {
                self.etcd_back();
                self.registered = true;
                self.observe.metrics.registrations.inc();
                self.observe.metrics.instances.set(1);
                self.observe.decided();
                info!("registered {}: {}", self.describe(Some(lease)), self.reason);
                self.due = Some(Instant::now() + keep_alive_interval(lease.ttl));
                Ok(())
            }
            Err(EtcdError::LeaseNotFound { .. }) => {
                // Gone between the grant and the write: grant another.
                self.lease = None;
                self.due = Some(Instant::now() + Duration::from_millis(100));
                Ok(())
            }
            Err(e) => self.etcd_failed(&format!("cannot register ({})", self.reason), e),
        }
    }

    fn keep_alive(&mut self, lease: Lease) -> Result<(), i32> {
        match self.etcd.keep_alive(lease.id) {
            Ok(Some(_)) => {
                if self.etcd_back() {
                    // The lease held through the outage; make sure the keys did too.
                    if let Err(e) = self.etcd.register(lease.id, &self.reg.shared, &self.reg.leased)
                    {
                        return self.etcd_failed("cannot refresh the registration", e);
                    }
                    info!("registration refreshed under lease {:x}", lease.id);
                }
                self.due = Some(Instant::now() + keep_alive_interval(lease.ttl));
                Ok(())
            }
            Ok(None) => {
                self.etcd_back();
                warn_lease_lost(lease);
                self.lease = None;
                self.registered = false;
                self.reason = "lease lost".into();
                self.observe.metrics.instances.set(0);
                self.register()?;
                if self.registered {
                    self.observe.metrics.reregistrations.inc();
                }
                Ok(())
            }
            Err(e) => {
                self.observe.metrics.keepalive_failures.inc();
                self.etcd_failed(&format!("keep-alive of lease {:x} failed", lease.id), e)
            }
        }
    }

    /// Deletes the instance's keys now: revokes the lease.
    fn deregister(&mut self, lease: Lease) -> Result<(), i32> {
        match self.remove(lease) {
            Ok(()) => {
                self.etcd_back();
                if self.registered {
                    self.observe.metrics.deregistrations.inc();
                    self.observe.metrics.instances.set(0);
                    info!("deregistered {}: {}", self.describe(None), self.reason);
                }
                self.lease = None;
                self.registered = false;
                Ok(())
            }
            Err(e) => self.etcd_failed(&format!("cannot deregister ({})", self.reason), e),
        }
    }

    /// Revokes the lease, which deletes the keys attached to it; if etcd refuses that for
    /// good, deletes the keys.
    fn remove(&self, lease: Lease) -> Result<(), EtcdError> {
        match self.etcd.revoke(lease.id) {
            Err(e) if !e.is_transient() => {
                warning!("cannot revoke lease {:x}: {e}; deleting the keys instead", lease.id);
                self.etcd.deregister(&self.reg.leased_keys())
            }
            r => r,
        }
    }

    /// Deregisters (one attempt, across the endpoints), then the agent ends with status 0.
    fn stop(&mut self, signal: &str) -> i32 {
        let _ = confd_metrics::systemd::notify("STOPPING=1");
        self.reason = format!("stopping ({signal})");
        match self.lease {
            None => info!("{}: nothing is registered", self.reason),
            Some(lease) => match self.remove(lease) {
                Ok(()) if self.registered => {
                    info!("deregistered {}: {}", self.describe(None), self.reason)
                }
                Ok(()) => info!("{}: nothing is registered", self.reason),
                Err(e) => error!(
                    "{}: cannot deregister: {e}; the keys expire with lease {:x} within {}s",
                    self.reason, lease.id, lease.ttl
                ),
            },
        }
        0
    }

    /// An etcd call failed. Final failures are logged as FATAL and end the agent; others are
    /// logged once per outage and retried.
    fn etcd_failed(&mut self, what: &str, e: EtcdError) -> Result<(), i32> {
        let expiry = if self.registered {
            format!("; if this lasts, the keys expire with the lease within {}s", self.ttl)
        } else {
            String::new()
        };
        self.link.failed(what, e, &expiry)?;
        self.due = Some(Instant::now() + keep_alive_interval(self.ttl).min(Duration::from_secs(1)));
        Ok(())
    }

    fn etcd_back(&mut self) -> bool {
        self.link.back()
    }

    /// `K=V, … (lease L, TTL Ns) and K=V (no lease)`: the leased keys, and with a lease the
    /// shared ones.
    fn describe(&self, lease: Option<Lease>) -> String {
        let pairs = |kvs: &[(String, String)]| {
            kvs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
        };
        let mut s = pairs(&self.reg.leased);
        if let Some(l) = lease {
            s.push_str(&format!(" (lease {:x}, TTL {}s)", l.id, l.ttl));
            if !self.reg.shared.is_empty() {
                s.push_str(&format!(" and {} (no lease)", pairs(&self.reg.shared)));
            }
        }
        s
    }
}

/// What both modes know of their link to etcd, so that failures are judged and said alike.
#[derive(Default)]
pub(crate) struct Link {
    /// An etcd failure was logged and nothing has worked since.
    outage: bool,
    /// etcd has answered at least once (a TLS failure before that is a configuration error).
    pub reached: bool,
}

impl Link {
    /// An etcd call failed. A final failure is logged as FATAL and is `Err(1)`, the agent's
    /// exit status; others are logged once per outage (with `note` after "retrying"), and
    /// the caller retries.
    pub fn failed(&mut self, what: &str, e: EtcdError, note: &str) -> Result<(), i32> {
        if is_final(&e, self.reached) {
            fatal!("{what}: {e}");
            return Err(1);
        }
        if !self.outage {
            error!("{what}: {e}; retrying{note}");
            self.outage = true;
        }
        Ok(())
    }

    /// etcd answered: ends an outage (logged). True if there was one.
    pub fn back(&mut self) -> bool {
        self.reached = true;
        if self.outage {
            info!("etcd is reachable again");
            self.outage = false;
            return true;
        }
        false
    }
}

pub(crate) fn warn_lease_lost(lease: Lease) {
    warning!(
        "lease lost: re-registering (lease {:x} expired, e.g. while etcd was unreachable for longer than its TTL of {}s)",
        lease.id,
        lease.ttl
    );
}

/// Whether an etcd failure will not pass by retrying: refusals, and TLS failures before etcd
/// was ever reached (afterwards, a TLS failure can be a member restarting).
fn is_final(e: &EtcdError, reached: bool) -> bool {
    match e {
        EtcdError::WriteDenied { .. }
        | EtcdError::PermissionDenied { .. }
        | EtcdError::AuthFailed { .. }
        | EtcdError::AuthRequired { .. }
        | EtcdError::Config(_) => true,
        EtcdError::Tls { .. } => !reached,
        _ => false,
    }
}

/// A lease is renewed three times per TTL, so one lost round costs nothing.
pub(crate) fn keep_alive_interval(ttl: i64) -> Duration {
    Duration::from_millis((ttl.max(1) as u64) * 1000 / 3)
}

/// How often the health check runs, and for how long.
struct Pace {
    /// While the instance is healthy.
    interval: Duration,
    /// While it is not (yet): a service that starts answering is registered soon after.
    start_interval: Duration,
    timeout: Duration,
}

/// Runs the check on a thread of its own, at `pace.start_interval` while `healthy` is false
/// and at `pace.interval` while it is true.
fn spawn_checks(
    check: Check,
    pace: Pace,
    healthy: Arc<AtomicBool>,
    tx: Sender<Event>,
) -> Result<(), String> {
    thread::Builder::new()
        .name("health".into())
        .spawn(move || loop {
            let start = Instant::now();
            let result = check.run(pace.timeout);
            if tx.send(Event::Check(result)).is_err() {
                return;
            }
            let every =
                if healthy.load(Ordering::SeqCst) { pace.interval } else { pace.start_interval };
            if let Some(rest) = (start + every).checked_duration_since(Instant::now()) {
                thread::sleep(rest);
            }
        })
        .map(drop)
        .map_err(|e| format!("cannot start the health check thread: {e}"))
}

/// SIGTERM and SIGINT, sent as `stop("SIGTERM")` or `stop("SIGINT")`.
pub(crate) fn spawn_signals<E: Send + 'static>(
    tx: Sender<E>,
    stop: fn(&'static str) -> E,
) -> Result<(), String> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                let name = if sig == SIGTERM { "SIGTERM" } else { "SIGINT" };
                if tx.send(stop(name)).is_err() {
                    return;
                }
            }
        })
        .map(drop)
        .map_err(|e| format!("cannot start the signal thread: {e}"))
}

//! Docker mode: registers the containers of the local engine that opt in by labels.
//!
//! Two threads. `docker` follows the engine: it subscribes to container events, then lists
//! the labelled containers that run and inspects each (so nothing that happens in between is
//! missed), and from then on inspects a container whenever an event says its state may have
//! changed; each inspection becomes a [`Decision`] ([`container::decide`], pure) sent to the
//! main thread. When the engine cannot be reached or the stream breaks, it says so and starts
//! over with backoff, so every reconnection is a full resynchronisation.
//!
//! The main thread owns etcd: one lease for the agent, kept alive every TTL/3, and per
//! container what it wants written and what is written. After every message it brings etcd in
//! line: registers what should be and is not (one transaction per container: its service key
//! without the lease, its instance key under it), deletes the instance keys of containers that
//! are no longer up, and once, after the first full listing, deletes registrations that an
//! earlier run of the agent left (instance ids `<node>-<12 hex digits>` of containers that are
//! not up). A lost lease re-registers everything; SIGTERM/SIGINT revoke the lease, which
//! deletes every instance key at once. While Docker cannot be reached the registrations stay as
//! they are (the containers usually keep running) and are corrected on reconnection.

pub mod container;
pub mod engine;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use confd_etcd::{Etcd, EtcdError, Lease};
use serde::Deserialize;

use crate::agent::{keep_alive_interval, spawn_signals, warn_lease_lost, Link};
use crate::cli::{join, DockerConfig, Registration};
use crate::log::{error, fatal, info, warning};
use crate::observe::Observe;
use container::{decide, is_our_instance, short_id, Container, Decision, Rules};
use engine::{query_escape, Engine, EngineError, Event, Next};

/// What the threads tell the main thread.
enum Msg {
    /// Every labelled container that runs, after (re)connecting to the engine.
    Synced(Vec<Seen>),
    /// One container, after an event about it.
    Changed(Seen),
    /// The engine cannot be reached, or its event stream broke.
    Lost(EngineError),
    Stop(&'static str),
}

/// A container as the engine last showed it, decided.
struct Seen {
    id: String,
    name: String,
    decision: Decision,
}

/// Runs until a stop signal (0) or an etcd refusal that will not pass (1).
pub fn run(cfg: DockerConfig) -> i32 {
    let (tx, rx) = mpsc::channel();
    if let Err(e) = spawn_signals(tx.clone(), Msg::Stop) {
        fatal!("{e}");
        return 1;
    }
    for w in &cfg.warnings {
        warning!("{w}");
    }
    let rules = cfg.rules.clone();
    info!(
        "confd-register {} starting in Docker mode: containers labelled {}.service on {}; keys under {}; instance ids {}-<container id>; lease TTL {}s; etcd {}",
        env!("CARGO_PKG_VERSION"),
        rules.label_prefix,
        cfg.socket.display(),
        rules.prefix,
        rules.node_name,
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
    let observe = match crate::observe::Observe::start(cfg.metrics_addr.as_deref()) {
        Ok(o) => o,
        Err(e) => {
            fatal!("{e}");
            return 1;
        }
    };
    let mut agent = DockerAgent::new(etcd, rules.clone(), cfg.ttl, observe);
    // May we write under the prefix? Asked without writing anything; a refusal is final.
    let probe = [join(&rules.prefix, "upstream/_probe"), join(&rules.prefix, "subdomain/_probe")];
    match agent.etcd.check_writable(&probe) {
        Ok(()) => agent.link.reached = true,
        Err(e) => {
            if let Err(code) = agent.etcd_failed("cannot register containers", e) {
                return code;
            }
        }
    }
    if let Err(e) = spawn_docker(Engine::new(&cfg.socket), rules, tx) {
        fatal!("{e}");
        return 1;
    }
    agent.run(rx)
}

// ---------------------------------------------------------------------------------------
// Following the engine.

fn spawn_docker(engine: Engine, rules: Rules, tx: Sender<Msg>) -> Result<(), String> {
    thread::Builder::new()
        .name("docker".into())
        .spawn(move || {
            let mut backoff = Duration::from_millis(500);
            loop {
                let lost = match follow(&engine, &rules, &tx, &mut backoff) {
                    Ok(()) => return, // the main thread is gone
                    Err(e) => e,
                };
                if tx.send(Msg::Lost(lost)).is_err() {
                    return;
                }
                thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        })
        .map(drop)
        .map_err(|e| format!("cannot start the Docker thread: {e}"))
}

/// Without any event for this long, the labelled containers are listed again: a watchdog
/// against a missed event, and a check that the engine still answers.
const RELIST: Duration = Duration::from_secs(60);

/// Subscribes, lists, then follows events until the stream breaks (`Err`) or the main thread
/// has gone (`Ok`).
fn follow(
    engine: &Engine,
    rules: &Rules,
    tx: &Sender<Msg>,
    backoff: &mut Duration,
) -> Result<(), EngineError> {
    let label = format!("{}.service", rules.label_prefix);
    // Container events are filtered here, not by the engine: a label filter would also drop
    // the network events (`connect`, `disconnect`), which carry the network's labels.
    let filters = serde_json::json!({ "type": ["container", "network"] }).to_string();
    let path = format!("/events?filters={}", query_escape(&filters));
    let mut events = engine.events(&path, RELIST)?;
    if tx.send(Msg::Synced(list(engine, rules, &label)?)).is_err() {
        return Ok(());
    }
    *backoff = Duration::from_millis(500);
    loop {
        let event = match events.next_event() {
            Ok(Next::Event(e)) => e,
            Ok(Next::Idle) => {
                if tx.send(Msg::Synced(list(engine, rules, &label)?)).is_err() {
                    return Ok(());
                }
                continue;
            }
            Ok(Next::End) => {
                let why = "the Docker engine ended the event stream".into();
                return Err(EngineError::Protocol { what: "event stream".into(), why });
            }
            Err(e) => return Err(e),
        };
        let Some(id) = concerned(&event, &label) else { continue };
        let seen = match inspect(engine, rules, id) {
            Ok(seen) => seen,
            Err(e) if ends_it(&event.action) => {
                // The engine is likely shutting down with its containers: this one is not
                // up any more, whatever else is not known.
                let down = Seen {
                    id: id.to_string(),
                    name: String::new(),
                    decision: Decision::Down(event.action.clone()),
                };
                let _ = tx.send(Msg::Changed(down));
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        if tx.send(Msg::Changed(seen)).is_err() {
            return Ok(());
        }
    }
}

/// Every running container with the service label, inspected.
fn list(engine: &Engine, rules: &Rules, label: &str) -> Result<Vec<Seen>, EngineError> {
    #[derive(Deserialize)]
    struct Listed {
        #[serde(rename = "Id")]
        id: String,
    }
    let filters = serde_json::json!({ "label": [label] }).to_string();
    let path = format!("/containers/json?filters={}", query_escape(&filters));
    let listed: Vec<Listed> =
        engine.get("container list", &path)?.ok_or_else(|| EngineError::Status {
            what: "container list".into(),
            status: 404,
            message: "not found".into(),
        })?;
    listed.iter().map(|l| inspect(engine, rules, &l.id)).collect()
}

/// The container an event may have changed the registration of: a labelled container's
/// state change, or any container's network (dis)connection (an unlabelled one is ignored
/// after inspection).
fn concerned<'a>(event: &'a Event, label: &str) -> Option<&'a str> {
    match event.kind.as_str() {
        "container" if event.actor.attributes.contains_key(label) => {
            may_change_state(&event.action).then_some(event.actor.id.as_str())
        }
        "network" if matches!(event.action.as_str(), "connect" | "disconnect") => {
            event.actor.attributes.get("container").map(String::as_str)
        }
        _ => None,
    }
}

/// Container actions after which its registration may change. Health checks run as `exec_*`
/// events every interval: those are not looked at (their outcome comes as `health_status`).
fn may_change_state(action: &str) -> bool {
    matches!(
        action,
        "start"
            | "restart"
            | "die"
            | "stop"
            | "kill"
            | "pause"
            | "unpause"
            | "destroy"
            | "oom"
            | "update"
            | "rename"
    ) || action.starts_with("health_status")
}

/// Actions after which the container is not up, whatever an inspection would say.
fn ends_it(action: &str) -> bool {
    matches!(action, "die" | "stop" | "destroy" | "pause" | "oom")
}

fn inspect(engine: &Engine, rules: &Rules, id: &str) -> Result<Seen, EngineError> {
    let path = format!("/containers/{}/json", query_escape(id));
    match engine.get::<Container>("inspect", &path)? {
        Some(c) => Ok(Seen {
            id: c.id.clone(),
            name: c.short_name().to_string(),
            decision: decide(&c, rules),
        }),
        None => Ok(Seen {
            id: id.to_string(),
            name: String::new(),
            decision: Decision::Down("removed".into()),
        }),
    }
}

// ---------------------------------------------------------------------------------------
// Bringing etcd in line.

#[derive(Default)]
struct Tracked {
    name: String,
    /// What should be written (up), or nothing.
    want: Option<Registration>,
    /// Why: said with the (de)registration.
    why: String,
    /// What is written under the current lease.
    written: Option<Registration>,
    /// The last state logged for a container that is not registered, so each is said once.
    said: String,
    /// The last label error logged, so that a container restarting with the same bad labels
    /// is not reported again.
    invalid: String,
    /// `written` was dropped to rewrite the registration (after an etcd outage or a lost
    /// lease): the next write is a re-registration.
    refresh: bool,
}

struct DockerAgent {
    etcd: Etcd,
    rules: Rules,
    ttl: i64,
    lease: Option<Lease>,
    containers: BTreeMap<String, Tracked>,
    /// Registrations left by an earlier run are still to be looked for.
    stale_check: bool,
    /// The engine has been listed at least once.
    synced: bool,
    docker_lost: bool,
    /// Something is to be done in etcd (now, or at `retry_at` after a failure).
    dirty: bool,
    retry_at: Option<Instant>,
    renew_at: Option<Instant>,
    link: Link,
    observe: Arc<Observe>,
}

impl DockerAgent {
    fn new(etcd: Etcd, rules: Rules, ttl: i64, observe: Arc<Observe>) -> DockerAgent {
        DockerAgent {
            etcd,
            rules,
            ttl,
            lease: None,
            containers: BTreeMap::new(),
            stale_check: true,
            synced: false,
            docker_lost: false,
            dirty: false,
            retry_at: None,
            renew_at: None,
            link: Link::default(),
            observe,
        }
    }

    /// The containers registered now.
    fn count_instances(&self) {
        let n = self.containers.values().filter(|t| t.written.is_some()).count();
        self.observe.metrics.instances.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    fn run(&mut self, rx: Receiver<Msg>) -> i32 {
        loop {
            self.observe.status.beat();
            let now = Instant::now();
            let renew_due = self.renew_at.is_some_and(|t| t <= now);
            let retry_due = self.dirty && self.retry_at.is_none_or(|t| t <= now);
            if renew_due || retry_due {
                if let Err(code) = self.act(renew_due) {
                    return code;
                }
            }
            let mut wake = self.renew_at;
            if self.dirty {
                let at = self.retry_at.unwrap_or(now);
                wake = Some(wake.map_or(at, |w| w.min(at)));
            }
            let wait = wake
                .map_or(Duration::from_secs(3600), |t| t.saturating_duration_since(Instant::now()));
            match rx.recv_timeout(wait.min(self.observe.status.beat_every())) {
                Ok(Msg::Synced(all)) => self.on_synced(all),
                Ok(Msg::Changed(seen)) => self.on_seen(seen),
                Ok(Msg::Lost(why)) => self.on_lost(why),
                Ok(Msg::Stop(signal)) => return self.stop(signal),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return self.stop("no event source left"),
            }
        }
    }

    fn on_synced(&mut self, all: Vec<Seen>) {
        if self.docker_lost {
            info!("Docker engine reachable again: resynchronising");
            self.docker_lost = false;
        }
        let present: BTreeSet<String> = all.iter().map(|s| s.id.clone()).collect();
        let gone: Vec<String> =
            self.containers.keys().filter(|id| !present.contains(*id)).cloned().collect();
        for id in gone {
            self.on_seen(Seen { id, name: String::new(), decision: Decision::Down("gone".into()) });
        }
        for s in all {
            self.on_seen(s);
        }
        self.synced = true;
        self.dirty = true;
        // Every labelled container has been looked at: the registrations follow from here.
        self.observe.decided();
    }

    fn on_seen(&mut self, seen: Seen) {
        let Seen { id, name, decision } = seen;
        if decision == Decision::Ignore && !self.containers.contains_key(&id) {
            return; // not ours (a network event about an unlabelled container)
        }
        let t = self.containers.entry(id.clone()).or_default();
        if !name.is_empty() {
            t.name = name;
        }
        let label = describe(&t.name, &id);
        match decision {
            Decision::Ignore => {
                t.want = None;
                t.why = "not labelled".into();
            }
            Decision::Up(reg, why) => {
                t.want = Some(reg);
                t.why = why;
            }
            Decision::Down(why) => {
                if t.written.is_none() && t.said != why && why != "gone" && why != "removed" {
                    info!("container {label} is not registered: {why}");
                }
                t.said = why.clone();
                t.want = None;
                t.why = why;
            }
            Decision::Invalid(err) => {
                if t.invalid != err {
                    error!("container {label} cannot be registered: {err}");
                }
                t.invalid = err.clone();
                t.said = err.clone();
                t.want = None;
                t.why = format!("cannot be registered: {err}");
            }
        }
        self.dirty = true;
    }

    fn on_lost(&mut self, why: EngineError) {
        if !self.docker_lost {
            error!(
                "{why}; retrying; the {} registration(s) made stay as they are until the engine answers",
                self.containers.values().filter(|t| t.written.is_some()).count()
            );
            self.docker_lost = true;
        }
    }

    /// Renews the lease if `renew`, then brings etcd in line with what the containers want.
    fn act(&mut self, renew: bool) -> Result<(), i32> {
        self.dirty = false;
        self.retry_at = None;
        if renew {
            self.renew()?;
        }
        let ids: Vec<String> = self.containers.keys().cloned().collect();
        for id in ids {
            if !self.bring_in_line(&id)? {
                return Ok(()); // an etcd failure: retried at `retry_at`
            }
        }
        if self.stale_check && self.synced && !self.docker_lost {
            self.remove_stale()?;
        }
        // Forget containers that are gone and have nothing in etcd.
        self.containers.retain(|_, t| {
            t.want.is_some() || t.written.is_some() || !(t.why == "gone" || t.why == "removed")
        });
        Ok(())
    }

    fn renew(&mut self) -> Result<(), i32> {
        let Some(lease) = self.lease else {
            self.renew_at = None;
            return Ok(());
        };
        match self.etcd.keep_alive(lease.id) {
            Ok(Some(_)) => {
                if self.etcd_back() {
                    // The lease held through the outage; write everything again in case the
                    // keys were changed meanwhile.
                    self.forget_written();
                }
                self.renew_at = Some(Instant::now() + keep_alive_interval(lease.ttl));
                Ok(())
            }
            Ok(None) => {
                self.etcd_back();
                warn_lease_lost(lease);
                self.lease = None;
                self.renew_at = None;
                self.forget_written();
                Ok(())
            }
            Err(e) => {
                self.etcd_failed(&format!("keep-alive of lease {:x} failed", lease.id), e)?;
                // Retry the keep-alive soon, not after a full interval.
                self.renew_at = self.retry_at;
                Ok(())
            }
        }
    }

    /// Makes every registration that should be in etcd be written again. A registration
    /// that is to be removed stays as written, so that its removal is still done.
    fn forget_written(&mut self) {
        for t in self.containers.values_mut() {
            if t.want.is_some() && t.written.is_some() {
                t.written = None;
                t.refresh = true;
            }
        }
        self.dirty = true;
    }

    /// One container: `Ok(false)` when etcd failed (retry later).
    fn bring_in_line(&mut self, id: &str) -> Result<bool, i32> {
        let t = &self.containers[id];
        if t.want == t.written {
            return Ok(true);
        }
        let label = describe(&t.name, id);
        let (want, written, why) = (t.want.clone(), t.written.clone(), t.why.clone());
        // Keys written before that the new registration does not rewrite (a changed address
        // keeps its key; a changed service name moves it).
        if let Some(old) = &written {
            let keep: Vec<&String> =
                want.iter().flat_map(|w| w.leased.iter().map(|(k, _)| k)).collect();
            let obsolete: Vec<String> =
                old.leased_keys().into_iter().filter(|k| !keep.contains(&k)).collect();
            if !obsolete.is_empty() {
                if let Err(e) = self.etcd.deregister(&obsolete) {
                    self.etcd_failed(&format!("cannot deregister container {label}"), e)?;
                    return Ok(false);
                }
                self.etcd_back();
                if want.is_none() {
                    info!("deregistered container {label}: {}: {why}", obsolete.join(", "));
                    self.observe.metrics.deregistrations.inc();
                }
            }
        }
        let Some(reg) = want else {
            self.containers.get_mut(id).expect("tracked").written = None;
            self.count_instances();
            return Ok(true);
        };
        let lease = match self.lease {
            Some(l) => l,
            None => match self.etcd.grant(self.ttl) {
                Ok(l) => {
                    self.etcd_back();
                    self.lease = Some(l);
                    self.renew_at = Some(Instant::now() + keep_alive_interval(l.ttl));
                    l
                }
                Err(e) => {
                    self.etcd_failed(&format!("cannot register container {label}"), e)?;
                    return Ok(false);
                }
            },
        };
        match self.etcd.register(lease.id, &reg.shared, &reg.leased) {
            Ok(()) => {
                self.etcd_back();
                let t = self.containers.get_mut(id).expect("tracked");
                let verb =
                    if std::mem::take(&mut t.refresh) { "re-registered" } else { "registered" };
                info!(
                    "{verb} container {label}: {} (lease {:x}, TTL {}s){}: {why}",
                    pairs(&reg.leased),
                    lease.id,
                    lease.ttl,
                    if reg.shared.is_empty() {
                        String::new()
                    } else {
                        format!(" and {} (no lease)", pairs(&reg.shared))
                    }
                );
                let t = self.containers.get_mut(id).expect("tracked");
                t.written = Some(reg);
                t.said.clear();
                t.invalid.clear();
                self.observe.metrics.registrations.inc();
                self.count_instances();
                Ok(true)
            }
            Err(EtcdError::LeaseNotFound { .. }) => {
                // The lease expired under us: grant another and write everything again.
                self.lease = None;
                self.forget_written();
                self.retry_at = Some(Instant::now() + Duration::from_millis(100));
                Ok(false)
            }
            Err(e) => {
                self.etcd_failed(&format!("cannot register container {label}"), e)?;
                Ok(false)
            }
        }
    }

    /// Deletes instance keys that look like ours (`<node>-<12 hex>`) but belong to no
    /// container that is up: left by an earlier run of the agent for containers that stopped
    /// or went away while it was not running (they would otherwise live until their old lease
    /// expired).
    fn remove_stale(&mut self) -> Result<(), i32> {
        let upstream = join(&self.rules.prefix, "upstream");
        let keys = match self.etcd.keys_below(&upstream) {
            Ok(keys) => keys,
            Err(e @ EtcdError::PermissionDenied { .. }) => {
                warning!("cannot look for registrations left by an earlier run: {e}; they expire with their lease");
                self.stale_check = false;
                return Ok(());
            }
            Err(e) => {
                return self.etcd_failed("cannot look for registrations left by an earlier run", e)
            }
        };
        let wanted: BTreeSet<&String> = self
            .containers
            .values()
            .flat_map(|t| t.want.iter().chain(&t.written))
            .flat_map(|r| r.leased.iter().map(|(k, _)| k))
            .collect();
        let below = format!("{upstream}/");
        let stale: Vec<String> = keys
            .iter()
            .filter(|k| {
                // <service>/<instance>, nothing deeper.
                let rest = k.strip_prefix(&below).unwrap_or_default();
                matches!(rest.split_once('/'), Some((_, inst)) if !inst.contains('/') && is_our_instance(&self.rules, inst))
            })
            .filter(|k| !wanted.contains(k))
            .cloned()
            .collect();
        if !stale.is_empty() {
            if let Err(e) = self.etcd.deregister(&stale) {
                return self.etcd_failed("cannot delete registrations left by an earlier run", e);
            }
            info!(
                "deregistered {}: left by an earlier run for containers that are not up here",
                stale.join(", ")
            );
        }
        self.stale_check = false;
        Ok(())
    }

    /// Revokes the lease (one attempt, across the endpoints), which deletes every instance
    /// key at once; then the agent ends with status 0.
    fn stop(&mut self, signal: &str) -> i32 {
        let _ = confd_metrics::systemd::notify("STOPPING=1");
        let reason = format!("stopping ({signal})");
        let registered: Vec<String> = self
            .containers
            .iter()
            .filter(|(_, t)| t.written.is_some())
            .map(|(id, t)| describe(&t.name, id))
            .collect();
        let Some(lease) = self.lease else {
            info!("{reason}: nothing is registered");
            return 0;
        };
        let result = match self.etcd.revoke(lease.id) {
            Err(e) if !e.is_transient() => {
                warning!("cannot revoke lease {:x}: {e}; deleting the keys instead", lease.id);
                let keys: Vec<String> = self
                    .containers
                    .values()
                    .filter_map(|t| t.written.as_ref())
                    .flat_map(Registration::leased_keys)
                    .collect();
                self.etcd.deregister(&keys)
            }
            r => r,
        };
        match result {
            Ok(()) if registered.is_empty() => info!("{reason}: nothing is registered"),
            Ok(()) => info!(
                "deregistered {} container(s): {}: {reason}",
                registered.len(),
                registered.join(", ")
            ),
            Err(e) => error!(
                "{reason}: cannot deregister: {e}; the keys expire with lease {:x} within {}s",
                lease.id, lease.ttl
            ),
        }
        0
    }

    /// An etcd call failed: final failures end the agent; others are logged once per outage
    /// and retried in a second.
    fn etcd_failed(&mut self, what: &str, e: EtcdError) -> Result<(), i32> {
        self.link.failed(what, e, "")?;
        self.dirty = true;
        self.retry_at = Some(Instant::now() + Duration::from_secs(1));
        Ok(())
    }

    fn etcd_back(&mut self) -> bool {
        self.link.back()
    }
}

/// `name (id12)`.
fn describe(name: &str, id: &str) -> String {
    if name.is_empty() {
        short_id(id).to_string()
    } else {
        format!("{name} ({})", short_id(id))
    }
}

fn pairs(kvs: &[(String, String)]) -> String {
    kvs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use container::AddressFrom;

    /// An agent whose etcd is never reached (connecting is lazy): for the bookkeeping alone.
    fn offline_agent() -> DockerAgent {
        let etcd =
            Etcd::connect(confd_etcd::EtcdConfig::new(vec!["http://127.0.0.1:1".into()])).unwrap();
        let rules = Rules {
            prefix: "/dc".into(),
            label_prefix: "confd".into(),
            node_name: "n1".into(),
            address: AddressFrom::Container { network: None },
        };
        DockerAgent::new(etcd, rules, 10, crate::observe::Observe::start(None).unwrap())
    }

    fn reg(key: &str) -> Registration {
        Registration { shared: Vec::new(), leased: vec![(key.into(), "10.0.0.1:80".into())] }
    }

    #[test]
    fn after_an_outage_registrations_are_rewritten_and_pending_removals_stay_pending() {
        let mut agent = offline_agent();
        let up = Tracked {
            want: Some(reg("/dc/upstream/web/a")),
            written: Some(reg("/dc/upstream/web/a")),
            ..Tracked::default()
        };
        let leaving =
            Tracked { want: None, written: Some(reg("/dc/upstream/web/b")), ..Tracked::default() };
        agent.containers.insert("a".into(), up);
        agent.containers.insert("b".into(), leaving);
        agent.forget_written();
        let (a, b) = (&agent.containers["a"], &agent.containers["b"]);
        assert!(a.written.is_none() && a.refresh, "to be written again");
        assert_eq!(b.written, Some(reg("/dc/upstream/web/b")), "its removal must still be done");
        assert!(agent.dirty);
    }

    #[test]
    fn unlabelled_containers_are_not_tracked_but_a_tracked_one_losing_its_labels_goes() {
        let mut agent = offline_agent();
        let seen = |id: &str, decision| Seen { id: id.into(), name: "x".into(), decision };
        agent.on_seen(seen("other", Decision::Ignore));
        assert!(agent.containers.is_empty());
        agent.on_seen(seen("a", Decision::Up(reg("/dc/upstream/web/a"), "healthy".into())));
        agent.on_seen(seen("a", Decision::Ignore));
        assert_eq!(agent.containers["a"].want, None);
    }
}

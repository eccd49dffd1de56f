//! Helpers for the tests against real etcd: a fast writer (etcd's JSON gateway, with its own
//! fail-over, so 1,000 writes take seconds rather than 1,000 `etcdctl` runs) and a recorder
//! that applies what a watch delivers to a model of the keys.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use confd_etcd::{EtcdConfig, Health, Update, WatchEvent};
use testkit::gateway::FailoverWriter;

pub fn config(endpoints: &[String]) -> EtcdConfig {
    EtcdConfig::new(endpoints.to_vec())
}

pub fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Writes through etcd's JSON gateway with fail-over (1 s per member, 60 s per write); usable
/// from several threads. A write retried after a timeout may be applied twice, which leaves the
/// same final state.
pub struct Writer(Mutex<FailoverWriter>);

impl Writer {
    pub fn new(endpoints: &[String]) -> Writer {
        let (attempt, deadline) = (Duration::from_secs(1), Duration::from_secs(60));
        Writer(Mutex::new(FailoverWriter::new(endpoints, attempt, deadline)))
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, FailoverWriter> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn put(&self, key: &str, value: &str) {
        self.writer().put(key, value)
    }

    pub fn del(&self, key: &str) {
        self.writer().del(key)
    }

    /// One transaction: puts (value `Some`) and deletes (`None`).
    pub fn txn(&self, ops: &[(&str, Option<&str>)]) {
        self.writer().txn(ops)
    }
}

/// Everything a watch delivered, and the keys as they stand after applying it.
#[derive(Debug, Default, Clone)]
pub struct Rec {
    pub state: BTreeMap<String, String>,
    pub revision: i64,
    pub events: Vec<(Duration, WatchEvent)>,
    pub changes: usize,
    pub resyncs: usize,
    /// The highest revision reported as synced.
    pub synced: i64,
}

impl Rec {
    pub fn statuses(&self) -> Vec<Health> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                WatchEvent::Status(h) => Some(h.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn updates(&self) -> Vec<Update> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                WatchEvent::Update(u) => Some(u.clone()),
                _ => None,
            })
            .collect()
    }

    /// Every change delivered, in order, whatever the updates that carried them.
    pub fn flat(&self) -> Vec<(String, Option<String>)> {
        self.updates()
            .into_iter()
            .flat_map(|u| match u {
                Update::Changes { changes, .. } => changes,
                Update::Resync(_) => Vec::new(),
            })
            .collect()
    }

    pub fn disconnects(&self) -> usize {
        self.statuses().iter().filter(|h| matches!(h, Health::Disconnected { .. })).count()
    }
}

pub struct Recorder {
    rec: Arc<Mutex<Rec>>,
    _thread: JoinHandle<()>,
}

impl Recorder {
    /// Starts applying `rx` to a model. `initial` is the state the watch started from.
    pub fn start(rx: Receiver<WatchEvent>, initial: BTreeMap<String, String>) -> Recorder {
        let rec = Arc::new(Mutex::new(Rec { state: initial, ..Rec::default() }));
        let r = rec.clone();
        let t0 = Instant::now();
        let thread = std::thread::spawn(move || {
            for ev in rx {
                let mut g = r.lock().unwrap();
                match &ev {
                    WatchEvent::Update(Update::Changes { revision, changes }) => {
                        assert!(!changes.is_empty(), "an empty change set was delivered");
                        g.changes += 1;
                        g.revision = g.revision.max(*revision);
                        for (k, v) in changes {
                            match v {
                                Some(v) => g.state.insert(k.clone(), v.clone()),
                                None => g.state.remove(k),
                            };
                        }
                    }
                    WatchEvent::Update(Update::Resync(snap)) => {
                        g.resyncs += 1;
                        g.revision = snap.revision;
                        g.state = snap.kvs.clone();
                    }
                    WatchEvent::Status(h) => eprintln!("watch status at {:?}: {h:?}", t0.elapsed()),
                    WatchEvent::Synced { revision } => g.synced = g.synced.max(*revision),
                }
                g.events.push((t0.elapsed(), ev));
            }
        });
        Recorder { rec, _thread: thread }
    }

    pub fn get(&self) -> Rec {
        self.rec.lock().unwrap().clone()
    }

    /// Waits until `pred` holds; panics with what was recorded if it does not within `timeout`.
    pub fn wait(&self, timeout: Duration, what: &str, pred: impl Fn(&Rec) -> bool) -> Rec {
        let ok = testkit::wait_until(timeout, || pred(&self.rec.lock().unwrap()));
        let rec = self.get();
        assert!(ok, "timed out after {timeout:?} waiting for {what}; recorded: {:#?}", rec.events);
        rec
    }
}

/// The index of the member whose client URL is `endpoint`.
pub fn member_of(endpoints: &[String], endpoint: &str) -> usize {
    endpoints.iter().position(|e| e == endpoint).expect("a known endpoint")
}

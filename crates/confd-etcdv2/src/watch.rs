//! The v2 watch: long polls with a `waitIndex` that follows every event under the watched
//! directory (see the crate doc). Runs on its own thread; reports through
//! [`confd_backend::notify`].

use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use confd_backend::notify::{reconnect_delay, stop_switch, Notice, StopFlag, WatchStop};
use confd_http::Progress;

use crate::wire::{self, ErrorBody, NodeAnswer, EVENT_INDEX_CLEARED};
use crate::{EtcdV2Error, Inner, HEADER_TIMEOUT};

/// A poll that has seen nothing for this long is sent again: cheap, and a member that hung
/// meanwhile is found out by the new request's header timeout.
const POLL_REFRESH: Duration = Duration::from_secs(10);
/// How often a waiting poll looks at its stop flag.
const STOP_CHECK: Duration = Duration::from_secs(1);

/// How one poll ended.
enum Poll {
    /// Something changed at `key`, at etcd index `index`.
    Event {
        key: String,
        index: u64,
    },
    /// etcd no longer has the history from our index; it is at `index` now.
    Cleared {
        index: u64,
    },
    /// Nothing happened within [`POLL_REFRESH`].
    Quiet,
    Stopped,
}

struct Watcher {
    inner: Arc<Inner>,
    /// The deepest directory holding every key: one recursive poll covers them all.
    dir: String,
    keys: Vec<String>,
    tx: Sender<Notice>,
    flag: StopFlag,
    /// The next etcd index to wait for; 0 until etcd's index is known.
    next: u64,
    /// Whether the watch listens, as last reported (`None`: nothing reported yet).
    up: Option<bool>,
}

pub(crate) fn start(
    inner: Arc<Inner>,
    keys: Vec<String>,
    tx: Sender<Notice>,
) -> Result<WatchStop, EtcdV2Error> {
    let (stop, flag) = stop_switch();
    let dir = wire::common_directory(&keys);
    match start_one(inner.clone(), dir, keys.clone(), tx.clone(), flag.clone()) {
        // A user granted only `/prefix/a/*` and `/prefix/b/*` may not read `/prefix`: one
        // watch per key then (each resumes on its own; a cleared index costs a re-read).
        Err(EtcdV2Error::Auth { .. }) if keys.len() > 1 => {
            for key in keys {
                start_one(inner.clone(), key.clone(), vec![key], tx.clone(), flag.clone())?;
            }
        }
        other => other?,
    }
    Ok(stop)
}

/// Starts one long-polling thread on `dir` for `keys`, after learning etcd's index (so it is
/// armed when it reports `Changed`). A refusal is an error; no member answering is not (the
/// thread reports it and retries).
fn start_one(
    inner: Arc<Inner>,
    dir: String,
    keys: Vec<String>,
    tx: Sender<Notice>,
    flag: StopFlag,
) -> Result<(), EtcdV2Error> {
    let mut watcher = Watcher { inner, dir, keys, tx, flag, next: 0, up: None };
    match watcher.current_index() {
        Ok((index, endpoint)) => {
            watcher.next = index + 1;
            watcher.mark_up(&endpoint);
        }
        Err(e) if e.is_unreachable() => watcher.mark_down(e),
        Err(e) => return Err(e),
    }
    std::thread::Builder::new()
        .name("etcdv2-watch".into())
        .spawn(move || watcher.run())
        .map(|_| ())
        .map_err(|e| EtcdV2Error::Protocol {
            endpoint: String::new(),
            key: String::new(),
            why: format!("cannot start the watch thread: {e}"),
        })
}

impl Watcher {
    fn run(mut self) {
        let mut failures = 0;
        while !self.flag.is_set() {
            let polled = if self.next == 0 {
                self.current_index().map(|(index, endpoint)| {
                    self.next = index + 1;
                    self.mark_up(&endpoint);
                    Poll::Quiet
                })
            } else {
                self.poll()
            };
            let sent = match polled {
                Ok(Poll::Event { key, index }) => {
                    self.next = self.next.max(index.saturating_add(1));
                    !self.keys.iter().any(|k| wire::concerns(&key, k))
                        || self.tx.send(Notice::Changed).is_ok()
                }
                Ok(Poll::Cleared { index }) => {
                    // Whatever happened since our index is unknown: read everything again.
                    self.next = index.saturating_add(1);
                    self.tx.send(Notice::Changed).is_ok()
                }
                Ok(Poll::Quiet) => true,
                Ok(Poll::Stopped) => return,
                Err(e) => {
                    self.mark_down(e);
                    self.pause(reconnect_delay(failures));
                    failures = failures.saturating_add(1);
                    continue;
                }
            };
            if !sent {
                return;
            }
            failures = 0;
        }
    }

    /// etcd's current index (and the member that said it), from a plain read of the
    /// directory (present or not).
    fn current_index(&self) -> Result<(u64, String), EtcdV2Error> {
        let mut answer = self.inner.get(&wire::keys_path(&self.dir), HEADER_TIMEOUT)?;
        let status = answer.response.status;
        let index = answer.response.header("X-Etcd-Index").and_then(|v| v.parse::<u64>().ok());
        let body = answer.body(&self.dir)?;
        self.inner.judge(&answer.endpoint, &self.dir, status, &body)?;
        let index = index.ok_or_else(|| EtcdV2Error::Protocol {
            endpoint: answer.endpoint.clone(),
            key: self.dir.clone(),
            why: "no X-Etcd-Index header".into(),
        })?;
        Ok((index, answer.endpoint))
    }

    /// One long poll from `next`.
    fn poll(&mut self) -> Result<Poll, EtcdV2Error> {
        let path = format!(
            "{}?wait=true&recursive=true&waitIndex={}",
            wire::keys_path(&self.dir),
            self.next
        );
        let mut answer = self.inner.get(&path, HEADER_TIMEOUT)?;
        let endpoint = answer.endpoint.clone();
        let status = answer.response.status;
        if status != 200 {
            let body = answer.body(&self.dir)?;
            let error = ErrorBody::parse(&body);
            if error.code == Some(EVENT_INDEX_CLEARED) {
                self.mark_up(&endpoint);
                return Ok(Poll::Cleared { index: error.index });
            }
            self.inner.judge(&endpoint, &self.dir, status, &body)?;
            return Err(self.protocol(&endpoint, format!("HTTP {status} to a watch")));
        }
        self.mark_up(&endpoint);
        let _ = answer.response.get_ref().set_read_timeout(Some(STOP_CHECK));
        let started = Instant::now();
        let mut body = Vec::new();
        loop {
            if self.flag.is_set() {
                return Ok(Poll::Stopped);
            }
            let progress =
                answer.response.read_some(&mut body).map_err(|e| EtcdV2Error::Unreachable {
                    attempts: vec![crate::Attempt {
                        endpoint: endpoint.clone(),
                        failure: crate::Failure::Http(e),
                    }],
                })?;
            match progress {
                Progress::Data if body.len() > confd_http::MAX_BODY => {
                    return Err(self.protocol(&endpoint, "an event larger than 64 MiB".into()))
                }
                Progress::Data => {}
                Progress::Idle if started.elapsed() >= POLL_REFRESH => return Ok(Poll::Quiet),
                Progress::Idle => {}
                Progress::End => break,
            }
        }
        let event: NodeAnswer = serde_json::from_slice(&body)
            .map_err(|e| self.protocol(&endpoint, format!("a watch event: {e}")))?;
        Ok(Poll::Event { key: event.node.key, index: event.node.modified_index })
    }

    fn protocol(&self, endpoint: &str, why: String) -> EtcdV2Error {
        EtcdV2Error::Protocol { endpoint: endpoint.to_string(), key: self.dir.clone(), why }
    }

    /// Listening (again): says so, and that everything must be read again.
    fn mark_up(&mut self, endpoint: &str) {
        if self.up.replace(true) != Some(true) {
            let _ = self.tx.send(Notice::Up { endpoint: endpoint.to_string() });
            let _ = self.tx.send(Notice::Changed);
        }
    }

    /// Not listening: says so once per outage.
    fn mark_down(&mut self, error: EtcdV2Error) {
        if self.up.replace(false) != Some(false) {
            let _ = self.tx.send(Notice::Down { error: Arc::new(error) });
        }
    }

    /// Sleeps up to `d`, returning early when stopped.
    fn pause(&self, d: Duration) {
        let until = Instant::now() + d;
        while !self.flag.is_set() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
        }
    }
}

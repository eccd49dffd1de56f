//! The watch supervisor: keeps one watch stream alive across member failures, compaction and
//! restores, and turns what etcd sends into ordered [`Update`]s.
//!
//! What to make of each response is decided by [`state::WatchState`] (pure, unit-tested): one
//! watcher over the range covering every prefix, so a transaction is one update by
//! construction; resume points, compaction, restores and cluster changes. This module is the
//! shell that talks to etcd.
//!
//! The loop: if there is no valid state, read everything (retrying with backoff) and deliver
//! it as a resync. Then open a stream on an endpoint and create the watchers (one, or one per
//! prefix where etcd refuses the covering range) one after another (each `created` answer is
//! matched to the create request in flight, which works whether or not the server honours
//! client-chosen watch IDs). Deliver each response's changes as one update.
//! When the stream ends, fails, or stops answering progress requests, open it again on the next
//! endpoint, from each prefix's `next`. The first retry after a stream that was healthy for
//! 10 s is immediate; otherwise the delay doubles from 100 ms up to 5 s. Once every endpoint
//! has failed in a row (and at least twice), `Disconnected` is reported, once; `Connected`
//! follows when a stream is established again. Re-reads that follow each other within 10 s
//! back off as well, so nothing can turn into a loop of full reads.
//!
//! etcd 3.4 checks a new watcher against the stream's auth token and answers an expired token
//! by cancelling the watcher ("invalid auth token", or "permission denied") rather than with
//! an error status: the supervisor authenticates again and retries, once
//! until a stream is established, so that a real refusal is reported (once) and not looped on.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::conn::{give_up, Backoff, Conn};
use crate::error::{classify, fmt_duration, Attempt, EtcdError, Failure};
use crate::prefix::{EtcdRanges, Prefix};
use crate::rpc::proto::{EventType, RangeRequest, WatchRequest, WatchResponse};
use crate::rpc::{create_watch, progress_request, range, Client, RpcError};
use crate::{read, Health, Update, WatchEvent};

mod state;

use state::{Decision, WatchState};

/// A stream that lived this long before failing was healthy: retry at once, backoff afresh.
const HEALTHY: Duration = Duration::from_secs(10);
/// The longest wait between attempts while etcd is unreachable.
const BACKOFF_CAP: Duration = Duration::from_secs(5);

pub(crate) struct Supervisor {
    conn: Arc<Conn>,
    /// What is watched, from where; meaningless while `need_read`.
    state: WatchState,
    need_read: bool,
    tx: Sender<WatchEvent>,
    link: Link,
    progress_interval: Duration,
    liveness: Duration,
    /// The token was refreshed after a refused watch since the last established stream.
    refreshed: bool,
    /// The revision last reported as [`WatchEvent::Synced`].
    synced: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Link {
    Starting,
    Up { endpoint: String },
    Down,
}

/// Why a stream ended.
enum End {
    /// The receiver is gone: stop watching.
    Stop,
    /// The state can no longer be continued incrementally.
    Resync(String),
    Failed(StreamFailure),
}

struct StreamFailure {
    attempt: Attempt,
    tls: bool,
    timeout: bool,
    /// Not worth rotating through the endpoints for: report at once.
    fatal: Option<EtcdError>,
    /// Retry on the same endpoint at once (the token was just refreshed).
    retry_same: bool,
}

impl StreamFailure {
    fn from_failure(f: Failure, endpoint: &str) -> StreamFailure {
        match f {
            Failure::Transient { message, tls, timeout } => StreamFailure {
                attempt: Attempt { endpoint: endpoint.to_string(), error: message },
                tls,
                timeout,
                fatal: None,
                retry_same: false,
            },
            Failure::Fatal(e) => StreamFailure::fatal(e, endpoint),
            Failure::PermissionDenied => StreamFailure::transient(endpoint, "permission denied"),
            Failure::Compacted => StreamFailure::transient(endpoint, "revision compacted"),
            Failure::TokenExpired => StreamFailure::transient(endpoint, "auth token expired"),
        }
    }

    fn transient(endpoint: &str, message: impl Into<String>) -> StreamFailure {
        StreamFailure {
            attempt: Attempt { endpoint: endpoint.to_string(), error: message.into() },
            tls: false,
            timeout: false,
            fatal: None,
            retry_same: false,
        }
    }

    fn timeout(endpoint: &str, message: impl Into<String>) -> StreamFailure {
        StreamFailure { timeout: true, ..StreamFailure::transient(endpoint, message) }
    }

    fn fatal(e: EtcdError, endpoint: &str) -> StreamFailure {
        StreamFailure {
            fatal: Some(e.clone()),
            ..StreamFailure::transient(endpoint, e.to_string())
        }
    }
}

/// What one response asks of the stream loop.
enum Step {
    Continue,
    End(End),
}

impl Supervisor {
    pub(crate) fn new(
        conn: Arc<Conn>,
        prefixes: Vec<Prefix>,
        from: Option<i64>,
        tx: Sender<WatchEvent>,
        progress_interval: Duration,
    ) -> Supervisor {
        let liveness = conn.request_timeout.max(Duration::from_secs(1));
        Supervisor {
            conn,
            state: WatchState::new(prefixes, from),
            need_read: from.is_none(),
            tx,
            link: Link::Starting,
            progress_interval: progress_interval.max(Duration::from_millis(100)),
            liveness,
            refreshed: false,
            synced: 0,
        }
    }

    fn send(&self, ev: WatchEvent) -> Result<(), ()> {
        self.tx.send(ev).map_err(|_| ())
    }

    fn status(&self, h: Health) -> Result<(), ()> {
        self.send(WatchEvent::Status(h))
    }

    /// Reports an outage, once.
    fn down(&mut self, error: EtcdError) -> Result<(), ()> {
        if self.link != Link::Down {
            self.link = Link::Down;
            self.status(Health::Disconnected { error })?;
        }
        Ok(())
    }

    pub(crate) async fn run(mut self) {
        let _ = self.run_inner().await;
    }

    async fn run_inner(&mut self) -> Result<(), ()> {
        if self.state.prefixes().is_empty() {
            return std::future::pending().await;
        }
        let mut backoff = Backoff::new(BACKOFF_CAP);
        let mut endpoint = self.conn.preferred();
        // Failed attempts since the last established stream, for the Disconnected report.
        let mut outage: Vec<Attempt> = Vec::new();
        let (mut tls_failure, mut all_timeout) = (None, true);
        // Why the last healthy stream was lost, for the Reconnected report.
        let mut lost: Option<String> = None;
        // Re-reads that follow each other closely back off too: whatever makes them
        // necessary must not turn into a loop of full reads.
        let mut last_read: Option<Instant> = None;
        loop {
            if self.need_read {
                if last_read.is_some_and(|t| t.elapsed() < HEALTHY) {
                    tokio::time::sleep(backoff.next_delay()).await;
                }
                last_read = Some(Instant::now());
                match read::read(&self.conn, self.state.prefixes()).await {
                    Ok(snapshot) => {
                        self.need_read = false;
                        self.state.resynced(snapshot.revision);
                        // The read is synced to its revision by itself.
                        self.synced = snapshot.revision;
                        self.send(WatchEvent::Update(Update::Resync(snapshot)))?;
                        endpoint = self.conn.preferred();
                    }
                    Err(e) => {
                        self.down(e)?;
                        tokio::time::sleep(backoff.next_delay()).await;
                        continue;
                    }
                }
            }

            let started = Instant::now();
            let mut established = false;
            let end = self.stream(endpoint, &mut established, &mut lost).await;
            if established {
                outage.clear();
                (tls_failure, all_timeout) = (None, true);
            }
            match end {
                End::Stop => return Err(()),
                End::Resync(reason) => {
                    self.need_read = true;
                    self.status(Health::Resyncing { reason })?;
                }
                End::Failed(f) if f.retry_same => {}
                End::Failed(f) => {
                    // The list may have changed (member discovery): count in the current one.
                    let n = self.conn.len();
                    endpoint = (endpoint + 1) % n;
                    if established && started.elapsed() >= HEALTHY {
                        backoff.reset();
                    }
                    let first_after_healthy = established;
                    if let Some(e) = f.fatal {
                        self.down(e)?;
                    } else {
                        if f.tls {
                            tls_failure = Some(f.attempt.clone());
                        }
                        all_timeout &= f.timeout;
                        outage.push(f.attempt.clone());
                        if matches!(self.link, Link::Up { .. }) && lost.is_none() {
                            lost = Some(format!("{}: {}", f.attempt.endpoint, f.attempt.error));
                        }
                        // Every endpoint failed in a row (without a working stream between),
                        // and at least twice: one quick retry is not an outage.
                        if outage.len() >= n.max(2) {
                            let e = give_up(
                                outage.clone(),
                                tls_failure.clone(),
                                all_timeout,
                                self.conn.request_timeout,
                            );
                            self.down(e)?;
                        }
                    }
                    if !(first_after_healthy && started.elapsed() >= HEALTHY) {
                        tokio::time::sleep(backoff.next_delay()).await;
                    }
                }
            }
        }
    }

    fn create_request(&self, idx: usize) -> WatchRequest {
        let watcher = &self.state.watchers()[idx];
        create_watch(watcher.range.key.clone(), watcher.range.end.clone(), watcher.next)
    }

    /// One stream on endpoint `i`, until it ends. Sets `established` once every watcher has
    /// been created.
    async fn stream(&mut self, i: usize, established: &mut bool, lost: &mut Option<String>) -> End {
        let target = self.conn.endpoint(i);
        let url = target.url.clone();
        let client = match self.conn.client(&target).await {
            Ok(c) => c,
            Err(f) => return End::Failed(StreamFailure::from_failure(f, &url)),
        };
        let open = client.watch(self.create_request(0));
        let limit = self.conn.request_timeout + Duration::from_secs(1);
        let stream = match tokio::time::timeout(limit, open).await {
            Err(_) => {
                return End::Failed(StreamFailure::timeout(
                    &url,
                    format!("no answer within {}", fmt_duration(limit)),
                ))
            }
            Ok(Err(e)) => return self.failure(&client, classify(e, &url), &url).await,
            Ok(Ok(s)) => s,
        };
        let (mut sender, mut responses) = stream;

        self.state.new_stream();
        let mut s = StreamState {
            url: url.clone(),
            client: client.clone(),
            awaiting: Some((0, Instant::now())),
            to_create: (1..self.state.watchers().len()).collect(),
            ids: HashMap::new(),
        };
        let mut last_message = Instant::now();
        let mut progress_sent: Option<Instant> = None;
        let tick_every = (self.progress_interval / 4)
            .clamp(Duration::from_millis(50), Duration::from_millis(500));
        let mut tick = tokio::time::interval(tick_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        loop {
            tokio::select! {
                biased;
                msg = responses.message() => {
                    last_message = Instant::now();
                    progress_sent = None;
                    let resp = match msg {
                        Err(e) => return self.failure(&client, classify(RpcError::Status(e), &url), &url).await,
                        Ok(None) => return End::Failed(StreamFailure::transient(&url, "etcd closed the watch stream")),
                        Ok(Some(r)) => r,
                    };
                    match self.handle(resp, &mut s).await {
                        Step::Continue => {}
                        Step::End(end) => return end,
                    }

                    // The next create, once the previous one is answered.
                    if s.awaiting.is_none() {
                        if let Some(next) = s.to_create.pop_front() {
                            if let Err(e) = sender.send(self.create_request(next)).await {
                                return End::Failed(StreamFailure::from_failure(classify(e, &url), &url));
                            }
                            s.awaiting = Some((next, Instant::now()));
                        } else if !*established {
                            *established = true;
                            self.refreshed = false;
                            self.conn.set_preferred(&url);
                            let health = match (&self.link, lost.take()) {
                                (Link::Up { .. }, Some(reason)) => {
                                    Some(Health::Reconnected { endpoint: url.clone(), reason })
                                }
                                (Link::Up { endpoint }, None) if *endpoint == url => None,
                                (Link::Up { .. }, None) => Some(Health::Reconnected {
                                    endpoint: url.clone(),
                                    reason: "resumed".into(),
                                }),
                                _ => Some(Health::Connected { endpoint: url.clone() }),
                            };
                            self.link = Link::Up { endpoint: url.clone() };
                            if let Some(h) = health {
                                if self.status(h).is_err() {
                                    return End::Stop;
                                }
                            }
                        }
                    }
                }
                _ = tick.tick() => {
                    if let Some((_, since)) = s.awaiting {
                        if since.elapsed() >= self.liveness {
                            return End::Failed(StreamFailure::timeout(&url, format!(
                                "watch not created within {}", fmt_duration(self.liveness))));
                        }
                    }
                    match progress_sent {
                        Some(t) if t.elapsed() >= self.liveness => {
                            return End::Failed(StreamFailure::timeout(&url, format!(
                                "no answer to a progress request within {}", fmt_duration(self.liveness))));
                        }
                        Some(_) => {}
                        None if last_message.elapsed() >= self.progress_interval => {
                            if let Err(e) = sender.send(progress_request()).await {
                                return End::Failed(StreamFailure::from_failure(classify(e, &url), &url));
                            }
                            progress_sent = Some(Instant::now());
                        }
                        None => {}
                    }
                }
            }
        }
    }

    /// Applies one response.
    async fn handle(&mut self, resp: WatchResponse, s: &mut StreamState) -> Step {
        if let Some(h) = &resp.header {
            let mut decision = self.state.header(h.cluster_id, h.revision, &s.url);
            if decision == Decision::Probe {
                let key = self.state.prefixes()[0].read_ranges().swap_remove(0).key;
                decision = match current_revision(&s.client, key, &s.url, self.conn.request_timeout)
                    .await
                {
                    Ok(now) => self.state.probed(now, &s.url),
                    // An expired token is renewed (once) like the stream's own.
                    Err(f) => {
                        let (client, url) = (s.client.clone(), s.url.clone());
                        return Step::End(self.failure(&client, f, &url).await);
                    }
                };
            }
            if let Decision::Resync(reason) = decision {
                return Step::End(End::Resync(reason));
            }
        }

        if resp.created {
            let Some((idx, _)) = s.awaiting.take() else {
                return Step::End(End::Failed(StreamFailure::transient(
                    &s.url,
                    "etcd confirmed a watch that was not requested",
                )));
            };
            s.ids.insert(resp.watch_id, idx);
            if resp.canceled {
                return self.canceled(&resp, idx, s).await;
            }
            return Step::Continue;
        }

        let Some(&idx) = s.ids.get(&resp.watch_id) else {
            // An answer to our progress request (watch ID -1), which etcd sends once every
            // watcher of the stream is synced: everything up to its revision is delivered.
            if let Some(h) = &resp.header {
                if self.state.watchers().len() == s.ids.len() && h.revision > self.synced {
                    self.synced = h.revision;
                    if self.send(WatchEvent::Synced { revision: h.revision }).is_err() {
                        return Step::End(End::Stop);
                    }
                }
            }
            return Step::Continue;
        };
        if resp.canceled {
            return self.canceled(&resp, idx, s).await;
        }
        // How far this response proves delivery: its last event, or for a progress
        // notification (no events) the header. With one watcher per prefix (split), one
        // watcher's answer says nothing of the others: only progress answers count then.
        let revision = match resp.events.last().and_then(|e| e.kv.as_ref()) {
            _ if self.state.watchers().len() > 1 => 0,
            Some(kv) => kv.mod_revision,
            None => resp.header.as_ref().map_or(0, |h| h.revision),
        };
        let sent = match self.state.response(idx, &plain(&resp)) {
            Decision::Deliver(update) => self.send(WatchEvent::Update(update)),
            Decision::Resync(reason) => return Step::End(End::Resync(reason)),
            Decision::Continue | Decision::Probe => Ok(()),
        };
        // An event response or a progress notification of a created watcher: everything up
        // to its revision has been delivered.
        let synced = if revision > self.synced {
            self.synced = revision;
            sent.and_then(|()| self.send(WatchEvent::Synced { revision }))
        } else {
            sent
        };
        match synced {
            Ok(()) => Step::Continue,
            Err(()) => Step::End(End::Stop),
        }
    }

    /// A failure of the stream; an expired token is refreshed first.
    async fn failure(&mut self, client: &Client, f: Failure, url: &str) -> End {
        match f {
            Failure::TokenExpired => self.reauthenticate(client, url, "auth token expired").await,
            f => End::Failed(StreamFailure::from_failure(f, url)),
        }
    }

    /// Authenticates again and asks for an immediate retry on the same endpoint, once until a
    /// stream is established (so a real refusal cannot turn into a loop).
    async fn reauthenticate(&mut self, client: &Client, url: &str, why: &str) -> End {
        if self.refreshed || self.conn.user.is_none() {
            return End::Failed(StreamFailure::transient(url, why));
        }
        self.refreshed = true;
        match client.authenticate().await {
            Ok(()) => End::Failed(StreamFailure {
                retry_same: true,
                ..StreamFailure::transient(url, format!("{why}; authenticated again"))
            }),
            Err(e) => End::Failed(StreamFailure::from_failure(classify(e, url), url)),
        }
    }

    async fn canceled(&mut self, resp: &WatchResponse, idx: usize, s: &mut StreamState) -> Step {
        if resp.compact_revision > 0 {
            if let Decision::Resync(reason) = self.state.compacted(idx, resp.compact_revision) {
                return Step::End(End::Resync(reason));
            }
        }
        let reason = resp.cancel_reason.as_str();
        if reason.contains("invalid auth token") {
            // etcd 3.4 checks a new watcher against the stream's token and cancels it when the
            // token has expired: authenticate again and retry at once.
            return Step::End(
                self.reauthenticate(&s.client.clone(), &s.url.clone(), "auth token expired").await,
            );
        }
        if reason.contains("permission denied") {
            // Possibly a token that expired in a form not recognised above: one retry with a
            // fresh token before calling it a refusal.
            if self.conn.user.is_some() && !self.refreshed {
                return Step::End(
                    self.reauthenticate(&s.client.clone(), &s.url.clone(), "watch refused").await,
                );
            }
            // The user may read the prefixes but not the range between them: one watcher per
            // prefix, from the same revision, at once.
            let watched = self.state.watched(idx);
            if self.state.split() {
                let split = Health::Split { prefixes: watched, endpoint: s.url.clone() };
                if self.status(split).is_err() {
                    return Step::End(End::Stop);
                }
                return Step::End(End::Failed(StreamFailure {
                    retry_same: true,
                    ..StreamFailure::transient(&s.url, "watching each prefix on its own")
                }));
            }
            return Step::End(End::Failed(StreamFailure::fatal(
                EtcdError::PermissionDenied {
                    prefix: watched,
                    user: self.conn.user.clone(),
                    endpoint: s.url.clone(),
                },
                &s.url,
            )));
        }
        let reason = if reason.is_empty() {
            "etcd cancelled the watch".to_string()
        } else {
            reason.to_string()
        };
        Step::End(End::Failed(StreamFailure::transient(&s.url, reason)))
    }
}

/// A response in the plain terms of [`state::Response`].
fn plain(resp: &WatchResponse) -> state::Response {
    let events = resp
        .events
        .iter()
        .filter_map(|ev| {
            let kv = ev.kv.as_ref()?;
            let value = match EventType::try_from(ev.r#type) {
                Ok(EventType::Put) => Some(String::from_utf8_lossy(&kv.value).into_owned()),
                Ok(EventType::Delete) => None,
                Err(_) => return None, // a kind of event this etcd API does not have
            };
            let key = String::from_utf8_lossy(&kv.key).into_owned();
            Some(state::Event { revision: kv.mod_revision, key, value })
        })
        .collect();
    state::Response { revision: resp.header.as_ref().map_or(0, |h| h.revision), events }
}

struct StreamState {
    url: String,
    client: Client,
    /// The create request in flight: watcher index, and when it was sent.
    awaiting: Option<(usize, Instant)>,
    to_create: VecDeque<usize>,
    /// etcd's watch ID → watcher index.
    ids: HashMap<i64, usize>,
}

/// The member's current revision, by a linearizable read (it waits for the member to catch up
/// with the leader, so a lagging follower answers with the cluster's revision).
/// `key` is one the user may read (a watched prefix's own key).
async fn current_revision(
    client: &Client,
    key: Vec<u8>,
    url: &str,
    timeout: Duration,
) -> Result<i64, Failure> {
    let read = client.range(RangeRequest { count_only: true, ..range(key, Vec::new()) });
    match tokio::time::timeout(timeout + Duration::from_secs(1), read).await {
        Err(_) => Err(Failure::Transient {
            message: "no answer to a revision check".into(),
            tls: false,
            timeout: true,
        }),
        Ok(Err(e)) => Err(classify(e, url)),
        Ok(Ok(r)) => Ok(r.header.map_or(0, |h| h.revision)),
    }
}

//! The watch supervisor: keeps one watch stream alive across member failures, compaction and
//! restores, and turns what etcd sends into ordered [`Update`]s.
//!
//! State, per prefix: `next`, the revision to watch from (the revision after the last event
//! applied, or after the snapshot). Overall: `applied`, the highest revision applied, to spot a
//! cluster whose revision went backwards, and the cluster ID.
//!
//! The loop: if there is no valid state, read everything (retrying with backoff) and deliver
//! it as a resync. Then open a stream on an endpoint and create the watchers one after
//! another (each `created` answer is matched to the create request in flight, which works
//! whether or not the server honours client-chosen watch IDs). Apply responses as they come.
//! When the stream ends, fails, or stops answering progress requests, open it again on the next
//! endpoint, from each prefix's `next`. The first retry after a stream that was healthy for
//! 10 s is immediate; otherwise the delay doubles from 100 ms up to 5 s. Once every endpoint
//! has failed in a row (and at least twice), `Disconnected` is reported, once; `Connected`
//! follows when a stream is established again. Re-reads that follow each other within 10 s
//! back off as well, so nothing can turn into a loop of full reads.
//!
//! etcd 3.4 checks a new watcher against the stream's auth token and answers an expired token
//! by cancelling the watcher ("invalid auth token", or "permission denied") rather than with
//! an error etcd-client would recognise: the supervisor authenticates again and retries, once
//! until a stream is established, so that a real refusal is reported (once) and not looped on.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use etcd_client::{Client, EventType, GetOptions, WatchOptions, WatchResponse};

use crate::conn::{give_up, Backoff, Conn, MAX_MESSAGE};
use crate::error::{classify, fmt_duration, Attempt, EtcdError, Failure};
use crate::prefix::Prefix;
use crate::{read, Health, Update, WatchEvent};

/// A stream that lived this long before failing was healthy: retry at once, backoff afresh.
const HEALTHY: Duration = Duration::from_secs(10);
/// The longest wait between attempts while etcd is unreachable.
const BACKOFF_CAP: Duration = Duration::from_secs(5);
/// Changes are delivered once no other watcher's response has come for this long…
const HOLD_QUIET: Duration = Duration::from_millis(5);
/// … or once they have been held this long…
const HOLD_MAX: Duration = Duration::from_millis(100);
/// … and not before the watchers of a new stream have been caught up by etcd.
const CATCH_UP: Duration = Duration::from_millis(300);

/// A change and the revision it was made at.
type Change = (i64, String, Option<String>);

/// Changes held back, in the order received; when the oldest of them came (or, after a
/// partial release, when that was) and when the last came.
struct Held {
    changes: Vec<Change>,
    first: Instant,
    last: Instant,
}

impl Held {
    fn newest(&self) -> i64 {
        self.changes.iter().map(|c| c.0).max().unwrap_or(0)
    }
}

/// The update of `changes`, at the newest of their revisions.
fn update_of(changes: Vec<Change>) -> Update {
    let revision = changes.iter().map(|c| c.0).max().unwrap_or(0);
    Update::Changes { revision, changes: changes.into_iter().map(|(_, k, v)| (k, v)).collect() }
}

pub(crate) struct Supervisor {
    conn: Arc<Conn>,
    prefixes: Vec<Prefix>,
    /// Per prefix: the revision to watch from. Meaningless while `need_read`.
    next: Vec<i64>,
    applied: i64,
    cluster_id: Option<u64>,
    need_read: bool,
    tx: Sender<WatchEvent>,
    link: Link,
    progress_interval: Duration,
    liveness: Duration,
    /// The token was refreshed after a refused watch since the last established stream.
    refreshed: bool,
    /// With several prefixes: changes received and not yet delivered (see
    /// [`Supervisor::hold`]).
    held: Option<Held>,
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
        let n = prefixes.len();
        let liveness = conn.request_timeout.max(Duration::from_secs(1));
        Supervisor {
            conn,
            prefixes,
            next: vec![from.unwrap_or(0) + 1; n],
            applied: from.unwrap_or(0),
            cluster_id: None,
            need_read: from.is_none(),
            tx,
            link: Link::Starting,
            progress_interval: progress_interval.max(Duration::from_millis(100)),
            liveness,
            refreshed: false,
            held: None,
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
        if self.prefixes.is_empty() {
            return std::future::pending().await;
        }
        let n = self.conn.len();
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
                match read::read(&self.conn, &self.prefixes).await {
                    Ok(snapshot) => {
                        self.need_read = false;
                        self.applied = snapshot.revision;
                        self.next = vec![snapshot.revision + 1; self.prefixes.len()];
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
            // What was received counts as applied (`next` moved past it): deliver it.
            if !matches!(end, End::Stop) {
                self.release()?;
            }
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
                    let url = self.conn.url(endpoint).to_string();
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
                            lost = Some(format!("{url}: {}", f.attempt.error));
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

    fn create_options(&self, idx: usize) -> (Vec<u8>, WatchOptions) {
        let range = self.prefixes[idx].watch_range();
        let opts = WatchOptions::new()
            .with_range(range.end)
            .with_start_revision(self.next[idx])
            .with_progress_notify();
        (range.key, opts)
    }

    /// One stream on endpoint `i`, until it ends. Sets `established` once every watcher has
    /// been created.
    async fn stream(&mut self, i: usize, established: &mut bool, lost: &mut Option<String>) -> End {
        let url = self.conn.url(i).to_string();
        let client = match self.conn.client(i).await {
            Ok(c) => c,
            Err(f) => return End::Failed(StreamFailure::from_failure(f, &url)),
        };
        let (key, opts) = self.create_options(0);
        let mut watch_client = client.watch_client().max_decoding_message_size(MAX_MESSAGE);
        let open = watch_client.watch(key, Some(opts));
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
        let (mut sender, mut responses) = stream.split();

        let mut s = StreamState {
            url: url.clone(),
            client: client.clone(),
            awaiting: Some((0, Instant::now())),
            to_create: (1..self.prefixes.len()).collect(),
            ids: HashMap::new(),
            probed: false,
            all_created: None,
        };
        let mut last_message = Instant::now();
        let mut progress_sent: Option<Instant> = None;
        let tick_every = (self.progress_interval / 4)
            .clamp(Duration::from_millis(50), Duration::from_millis(500));
        let mut tick = tokio::time::interval(tick_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        loop {
            // A watcher replays its history from its start revision, unsynced, until etcd has
            // caught it up (etcd does so every 100 ms): until every watcher is created and has
            // had time to be caught up, what is held may still be missing their part.
            if s.all_created.is_none() && s.awaiting.is_none() && s.to_create.is_empty() {
                s.all_created = Some(Instant::now());
            }
            // Quiet: deliver everything; held too long: deliver the revisions that are complete.
            let (held, held_due, all) = match (&self.held, s.all_created) {
                (Some(h), Some(at)) => {
                    let quiet = (h.last + HOLD_QUIET).max(at + CATCH_UP);
                    let long = (h.first + HOLD_MAX).max(at + CATCH_UP);
                    (true, quiet.min(long), quiet <= long)
                }
                _ => (false, Instant::now(), false),
            };
            // Biased: a response already received is handled before a timer that expired
            // meanwhile, so that what is held is not released ahead of its rest.
            tokio::select! {
                biased;
                msg = responses.message() => {
                    last_message = Instant::now();
                    progress_sent = None;
                    let resp = match msg {
                        Err(e) => return self.failure(&client, classify(e, &url), &url).await,
                        Ok(None) => return End::Failed(StreamFailure::transient(&url, "etcd closed the watch stream")),
                        Ok(Some(r)) => r,
                    };
                    match self.handle(resp, &mut s).await {
                        Step::Continue => {}
                        Step::End(end) => return end,
                    }
                    // Responses that never stop coming would never let the timers run.
                    if self.held.as_ref().is_some_and(|h| h.first.elapsed() >= 2 * HOLD_MAX)
                        && self.release_complete().is_err()
                    {
                        return End::Stop;
                    }

                    // The next create, once the previous one is answered.
                    if s.awaiting.is_none() {
                        if let Some(next) = s.to_create.pop_front() {
                            let (key, opts) = self.create_options(next);
                            if let Err(e) = sender.watch(key, Some(opts)).await {
                                return End::Failed(StreamFailure::from_failure(classify(e, &url), &url));
                            }
                            s.awaiting = Some((next, Instant::now()));
                        } else if !*established {
                            *established = true;
                            self.refreshed = false;
                            self.conn.set_preferred(i);
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
                _ = tokio::time::sleep_until(held_due.into()), if held => {
                    let released = if all { self.release() } else { self.release_complete() };
                    if released.is_err() {
                        return End::Stop;
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
                            if let Err(e) = sender.request_progress().await {
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
        if let Some(h) = resp.header() {
            let (cluster, revision) = (h.cluster_id(), h.revision());
            match self.cluster_id {
                Some(c) if c != cluster && cluster != 0 => {
                    self.cluster_id = Some(cluster);
                    return Step::End(End::Resync(format!(
                        "etcd at {} belongs to another cluster (ID {cluster:x}, was {c:x}): replaced or restored",
                        s.url
                    )));
                }
                None if cluster != 0 => self.cluster_id = Some(cluster),
                _ => {}
            }
            if revision > 0 && revision < self.applied && !s.probed {
                // Lower than what was applied: a restored cluster, or a member that lags.
                // A linearizable read on the same member tells them apart.
                s.probed = true;
                let key = self.prefixes[0].read_ranges().swap_remove(0).key;
                match current_revision(&s.client, key, &s.url, self.conn.request_timeout).await {
                    Ok(now) if now < self.applied => {
                        return Step::End(End::Resync(format!(
                            "etcd at {} is at revision {now}, behind the {} already applied: restored from a backup?",
                            s.url, self.applied
                        )));
                    }
                    Ok(_) => {}
                    Err(f) => {
                        return Step::End(End::Failed(StreamFailure::from_failure(f, &s.url)))
                    }
                }
            }
        }

        if resp.created() {
            let Some((idx, _)) = s.awaiting.take() else {
                return Step::End(End::Failed(StreamFailure::transient(
                    &s.url,
                    "etcd confirmed a watch that was not requested",
                )));
            };
            s.ids.insert(resp.watch_id(), idx);
            if resp.canceled() {
                return self.canceled(&resp, idx, s).await;
            }
            return Step::Continue;
        }

        let Some(&idx) = s.ids.get(&resp.watch_id()) else {
            // An answer to our progress request (watch ID -1): liveness only.
            return Step::Continue;
        };
        if resp.canceled() {
            return self.canceled(&resp, idx, s).await;
        }
        if resp.events().is_empty() {
            // A progress notification etcd sent on its own: it does so only for a watcher that
            // is in sync, so everything up to the header's revision has been delivered.
            if let Some(h) = resp.header() {
                self.next[idx] = self.next[idx].max(h.revision() + 1);
            }
            return Step::Continue;
        }

        let prefix = &self.prefixes[idx];
        let mut changes = Vec::with_capacity(resp.events().len());
        let mut last = 0;
        for ev in resp.events() {
            let Some(kv) = ev.kv() else { continue };
            let rev = kv.mod_revision();
            if rev < self.next[idx] {
                continue; // already applied (a resumed watch never repeats, but be sure)
            }
            last = last.max(rev);
            let key = String::from_utf8_lossy(kv.key());
            if !prefix.selects(&key) {
                continue;
            }
            let value = match ev.event_type() {
                EventType::Put => Some(String::from_utf8_lossy(kv.value()).into_owned()),
                EventType::Delete => None,
            };
            changes.push((rev, key.into_owned(), value));
        }
        if last > 0 {
            self.next[idx] = last + 1;
            self.applied = self.applied.max(last);
        }
        if changes.is_empty() {
            return Step::Continue;
        }
        if self.prefixes.len() == 1 {
            if self.send(WatchEvent::Update(update_of(changes))).is_err() {
                return Step::End(End::Stop);
            }
        } else {
            self.hold(changes);
        }
        Step::Continue
    }

    /// Keeps changes back until the other prefixes' watchers have had time to say what they
    /// have for the same revisions, so that a transaction spanning several prefixes is
    /// delivered as one update. etcd sends each watcher of a stream its own response, but it
    /// queues the responses of one revision for all of them at once, so they arrive back to
    /// back, and all of a revision before any of the next: what is held is delivered when no
    /// response has followed for [`HOLD_QUIET`]; in a steady stream, every [`HOLD_MAX`], the
    /// revisions older than the newest received (which are complete) are; and nothing before
    /// every watcher of the stream is created and caught up ([`CATCH_UP`]). (A progress
    /// request cannot mark the end: etcd 3.4 before 3.4.25 may answer it ahead of watch
    /// responses already queued.)
    fn hold(&mut self, changes: Vec<Change>) {
        let now = Instant::now();
        match &mut self.held {
            Some(held) => {
                held.changes.extend(changes);
                held.last = now;
            }
            None => self.held = Some(Held { changes, first: now, last: now }),
        }
    }

    /// Delivers everything held.
    fn release(&mut self) -> Result<(), ()> {
        match self.held.take() {
            Some(held) => self.send(WatchEvent::Update(update_of(held.changes))),
            None => Ok(()),
        }
    }

    /// Delivers the held changes older than the newest revision received, which are complete;
    /// the newest stay held, and the clock of [`HOLD_MAX`] starts again for them.
    fn release_complete(&mut self) -> Result<(), ()> {
        let Some(held) = &mut self.held else { return Ok(()) };
        let newest = held.newest();
        let (done, rest): (Vec<Change>, Vec<Change>) =
            held.changes.drain(..).partition(|c| c.0 < newest);
        held.changes = rest;
        held.first = Instant::now();
        if done.is_empty() {
            return Ok(());
        }
        self.send(WatchEvent::Update(update_of(done)))
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
        match client.refresh_token().await {
            Ok(()) => End::Failed(StreamFailure {
                retry_same: true,
                ..StreamFailure::transient(url, format!("{why}; authenticated again"))
            }),
            Err(e) => End::Failed(StreamFailure::from_failure(classify(e, url), url)),
        }
    }

    async fn canceled(&mut self, resp: &WatchResponse, idx: usize, s: &mut StreamState) -> Step {
        let prefix = self.prefixes[idx].display().to_string();
        if resp.compact_revision() > 0 {
            return Step::End(End::Resync(format!(
                "the history of {prefix} was compacted up to revision {} while we needed it from {}",
                resp.compact_revision(),
                self.next[idx]
            )));
        }
        let reason = resp.cancel_reason();
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
            return Step::End(End::Failed(StreamFailure::fatal(
                EtcdError::PermissionDenied {
                    prefix,
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

struct StreamState {
    url: String,
    client: Client,
    /// The create request in flight: prefix index, and when it was sent.
    awaiting: Option<(usize, Instant)>,
    to_create: VecDeque<usize>,
    /// etcd's watch ID → prefix index.
    ids: HashMap<i64, usize>,
    /// A lower header revision has been checked on this stream already.
    probed: bool,
    /// When the last watcher of the stream was created.
    all_created: Option<Instant>,
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
    let mut kv = client.kv_client();
    let read = kv.get(key, Some(GetOptions::new().with_count_only()));
    match tokio::time::timeout(timeout + Duration::from_secs(1), read).await {
        Err(_) => Err(Failure::Transient {
            message: "no answer to a revision check".into(),
            tls: false,
            timeout: true,
        }),
        Ok(Err(e)) => Err(classify(e, url)),
        Ok(Ok(r)) => Ok(r.header().map(|h| h.revision()).unwrap_or(0)),
    }
}

//! The watch: one pub/sub connection of its own, subscribed to the keyspace channels of the
//! watched keys, on a thread that reports through [`Notice`]s and reconnects by itself.
//!
//! Its life: connect (nodes in order), check `notify-keyspace-events` ([`crate::keyspace`]),
//! `PSUBSCRIBE`, then `Up` and `Changed`; then every keyspace message (a burst collapsed into
//! one) is a `Changed`. The connection reads with a 1 s timeout so the stop flag is seen, and
//! after 10 s without a message it PINGs, so a server that died silently or hangs is noticed.
//! When the connection is lost: one `Down`, reconnection with [`reconnect_delay`], and `Up` +
//! `Changed` once subscribed again. A `Down` is sent again during one outage only when the
//! kind of failure changes (say from unreachable to keyspace events off).

use std::mem::{discriminant, Discriminant};
use std::sync::mpsc::{self, Sender, SyncSender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use confd_backend::notify::{reconnect_delay, stop_switch, Notice, StopFlag, WatchStop};
use redis::PubSub;

use crate::keys::Wanted;
use crate::{keyspace, RedisError, Shared};

/// The read timeout while waiting for messages: how soon the stop flag is seen.
const POLL: Duration = Duration::from_secs(1);
/// Silence after which the connection is checked with a PING.
const LIVENESS: Duration = Duration::from_secs(10);
/// After a message, further messages that arrive within this pause join the same `Changed`...
const BURST_GAP: Duration = Duration::from_millis(20);
/// ... for at most this long, so a steady stream of changes still gets reported.
const BURST_MAX: Duration = Duration::from_millis(250);
/// The pause between attempts when the server answers but cannot be used (keyspace events
/// off, password refused).
const MISCONFIGURED_RETRY: Duration = Duration::from_secs(5);

/// Starts the watch thread and waits for its first attempt: `Ok` once subscribed (`Up` and
/// `Changed` sent) or when no node could be reached (`Down` sent; it keeps trying); `Err` for
/// anything else (password, keyspace events off, a refused PSUBSCRIBE), and the thread ends.
pub(crate) fn start(
    shared: Arc<Shared>,
    keys: Vec<String>,
    tx: Sender<Notice>,
) -> Result<WatchStop, RedisError> {
    let mut wanted: Vec<Wanted> = keys.iter().map(|k| shared.map.wanted(k)).collect();
    wanted.sort_by(|a, b| a.redis.cmp(&b.redis));
    wanted.dedup();
    let (stop, flag) = stop_switch();
    let (first_tx, first_rx) = mpsc::sync_channel(1);
    let watcher = Watcher { shared, wanted, tx, flag, first: Some(first_tx) };
    thread::Builder::new()
        .name("confd-redis-watch".into())
        .spawn(move || watcher.run())
        .map_err(|source| RedisError::Thread { source })?;
    match first_rx.recv() {
        Ok(Ok(())) => Ok(stop),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(RedisError::Thread {
            source: std::io::Error::other("the watch thread ended before its first report"),
        }),
    }
}

struct Watcher {
    shared: Arc<Shared>,
    wanted: Vec<Wanted>,
    tx: Sender<Notice>,
    flag: StopFlag,
    /// Where the outcome of the first attempt goes; `None` after it.
    first: Option<SyncSender<Result<(), RedisError>>>,
}

/// Why listening ended.
enum Ended {
    /// Stop flag set, or nobody listens to the notices any more.
    Stopped,
    Lost(RedisError),
}

impl Watcher {
    fn run(mut self) {
        // The kind of the last Down sent in this outage.
        let mut down: Option<Discriminant<RedisError>> = None;
        let mut attempt = 0u32;
        while !self.flag.is_set() {
            let error = match self.session(&mut down, &mut attempt) {
                Ended::Stopped => return,
                Ended::Lost(e) => e,
            };
            let unreachable = error.is_unreachable();
            if let Some(first) = self.first.take() {
                if !unreachable {
                    let _ = first.send(Err(error));
                    return;
                }
                self.first = Some(first);
            }
            let pause = if unreachable { reconnect_delay(attempt) } else { MISCONFIGURED_RETRY };
            let kind = discriminant(&error);
            if down != Some(kind) {
                down = Some(kind);
                if self.tx.send(Notice::Down { error: Arc::new(error) }).is_err() {
                    return;
                }
            }
            if let Some(first) = self.first.take() {
                let _ = first.send(Ok(()));
            }
            attempt = attempt.saturating_add(1);
            if !self.sleep(pause) {
                return;
            }
        }
    }

    /// One connection: connect, check, subscribe, report, listen until lost or stopped.
    fn session(&mut self, down: &mut Option<Discriminant<RedisError>>, attempt: &mut u32) -> Ended {
        let mut conn = match self.shared.connect() {
            Ok(conn) => conn,
            Err(e) => return Ended::Lost(e),
        };
        let node = &self.shared.nodes[conn.node];
        match keyspace::read(&mut conn.con, &node.name) {
            Ok(Some(have)) if !keyspace::missing(&have).is_empty() => {
                return Ended::Lost(RedisError::KeyspaceEventsOff { node: node.name.clone(), have })
            }
            // Enough, or cannot be checked (CONFIG refused): go on.
            Ok(_) => {}
            Err(e) => return Ended::Lost(e),
        }
        let patterns: Vec<String> =
            self.wanted.iter().map(|w| self.shared.map.watch_pattern(w, node.db)).collect();
        let mut pubsub = conn.con.as_pubsub();
        if let Err(e) = pubsub.psubscribe(&patterns) {
            let key = patterns.join(" ");
            return Ended::Lost(RedisError::from_command(
                &node.name,
                "PSUBSCRIBE",
                key.as_bytes(),
                e,
            ));
        }
        if let Err(e) = pubsub.set_read_timeout(Some(POLL)) {
            return Ended::Lost(RedisError::from_command(&node.name, "PSUBSCRIBE", b"", e));
        }
        // Armed: whatever changes from here on is heard, so the read after Changed is safe.
        if self.flag.is_set() {
            return Ended::Stopped;
        }
        let up = Notice::Up { endpoint: node.name.clone() };
        if self.tx.send(up).is_err() || self.tx.send(Notice::Changed).is_err() {
            return Ended::Stopped;
        }
        if let Some(first) = self.first.take() {
            let _ = first.send(Ok(()));
        }
        *down = None;
        *attempt = 0;
        listen(&mut pubsub, &node.name, &self.tx, &self.flag)
    }

    /// Sleeps `pause` in short steps; false if stopped meanwhile.
    fn sleep(&self, pause: Duration) -> bool {
        let until = Instant::now() + pause;
        while !self.flag.is_set() {
            let now = Instant::now();
            if now >= until {
                return true;
            }
            thread::sleep((until - now).min(Duration::from_millis(100)));
        }
        false
    }
}

/// Turns keyspace messages into `Changed` until the connection is lost or the watch stopped.
fn listen(pubsub: &mut PubSub<'_>, node: &str, tx: &Sender<Notice>, flag: &StopFlag) -> Ended {
    let lost = |e| Ended::Lost(RedisError::from_command(node, "PSUBSCRIBE", b"", e));
    let mut heard = Instant::now();
    while !flag.is_set() {
        match pubsub.get_message() {
            Ok(_) => {
                let broke = drain(pubsub);
                if tx.send(Notice::Changed).is_err() {
                    return Ended::Stopped;
                }
                if let Some(e) = broke {
                    return lost(e);
                }
                heard = Instant::now();
            }
            Err(e) if e.is_timeout() => {
                if heard.elapsed() >= LIVENESS {
                    if let Err(e) = pubsub.ping::<redis::Value>() {
                        return Ended::Lost(RedisError::from_command(node, "PING", b"", e));
                    }
                    heard = Instant::now();
                }
            }
            Err(e) => return lost(e),
        }
    }
    Ended::Stopped
}

/// Reads the rest of a burst of messages; the error if the connection broke meanwhile.
fn drain(pubsub: &mut PubSub<'_>) -> Option<redis::RedisError> {
    if let Err(e) = pubsub.set_read_timeout(Some(BURST_GAP)) {
        return Some(e);
    }
    let until = Instant::now() + BURST_MAX;
    let mut broke = None;
    while Instant::now() < until {
        match pubsub.get_message() {
            Ok(_) => {}
            Err(e) if e.is_timeout() => break,
            Err(e) => {
                broke = Some(e);
                break;
            }
        }
    }
    match pubsub.set_read_timeout(Some(POLL)) {
        Ok(()) => broke,
        Err(e) => Some(broke.unwrap_or(e)),
    }
}

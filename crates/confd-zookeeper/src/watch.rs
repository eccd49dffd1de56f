//! The change watch: persistent recursive watches on the keys, and what their session does.
//!
//! One thread per watch blocks on the crate's runtime and waits for three things: a node event
//! from any of the watches (→ `Changed`, a burst collapsed into one), a change of the session's
//! state, and a 200 ms tick to look at the stop flag. Session states:
//!
//! - disconnected → `Down`, once;
//! - connected again (same session) → the watches are added again, then `Up` and `Changed`;
//! - over (expired, closed, authentication failed) → a new session (see `session`), the
//!   watches added on it, then `Up` and `Changed`.
//!
//! While arming fails, the thread waits [`reconnect_delay`] between attempts, having sent
//! `Down` once.
//!
//! Why add the watches again on the same session: the server drops a connection's watches
//! with the connection, and a client re-adds them when it reconnects (`SetWatches2`).
//! zookeeper-client 0.11.2 leaves persistent watches out of that request (in `resend_watches`
//! the highest watch kind is never recorded, so it always sends the older `SetWatches`, which
//! has no room for them), so after a reconnection its persistent watches would be silent. We
//! add them ourselves, before `Changed`, which is correct with or without that fix; the new
//! watch is added before the old one is dropped, so the library never asks the server to
//! remove the path's watch.
//!
//! Each watch has a small task that forwards its events into one channel, so any number of
//! keys is one `select!`. A forwarder stops at the session's terminal event: the client
//! library closes a watch's channel after that event, and waiting on it again would panic.

use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use confd_backend::notify::{reconnect_delay, stop_switch, Notice, StopFlag, WatchStop};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinSet;
use tokio::time::timeout;
use zookeeper_client::{
    AddWatchMode, Error as ZkError, EventType, PersistentWatcher, SessionState, StateWatcher,
};

use crate::session::Session;
use crate::{read, Inner, ZookeeperError, REQUEST_TIMEOUT};

/// How often the thread looks at its stop flag.
const STOP_POLL: Duration = Duration::from_millis(200);

/// Starts a watch (see [`crate::Zookeeper::watch`]).
pub(crate) fn start(
    inner: Arc<Inner>,
    keys: &[String],
    tx: Sender<Notice>,
) -> Result<WatchStop, ZookeeperError> {
    let paths = read::roots(keys, inner.session.ensemble())?;
    let (stop, flag) = stop_switch();
    let first = match inner.rt().block_on(arm(&inner.session, &paths)) {
        Ok(armed) => {
            let endpoint = inner.session.ensemble().to_string();
            if tx.send(Notice::Up { endpoint }).is_err() || tx.send(Notice::Changed).is_err() {
                return Ok(stop); // nobody listens: no thread
            }
            Ok(armed)
        }
        Err(e) if e.is_unreachable() => Err(e),
        Err(e) => return Err(e),
    };
    std::thread::Builder::new()
        .name("confd-zk-watch".into())
        .spawn(move || {
            let watch = Watch { session: &inner.session, paths, tx, flag, is_down: false };
            inner.rt().block_on(watch.run(first));
            // `inner` (maybe the last handle on the runtime) is dropped here, outside it.
        })
        .map_err(ZookeeperError::Runtime)?;
    Ok(stop)
}

/// Armed watches on one session.
struct Armed {
    states: StateWatcher,
    /// One `()` per node event of any watch.
    events: UnboundedReceiver<()>,
    /// The forwarders; dropping the set stops them and drops the watches.
    _forwarders: JoinSet<()>,
}

/// Adds a persistent recursive watch on every path, on the current session (a new one if it
/// is over).
async fn arm(session: &Session, paths: &[String]) -> Result<Armed, ZookeeperError> {
    let client = session.client().await?;
    // Before the watches, so no state change after them goes unseen.
    let states = client.state_watcher();
    let (tx, events) = unbounded_channel();
    let mut forwarders = JoinSet::new();
    for path in paths {
        let ensemble = || session.ensemble().to_string();
        let added = timeout(REQUEST_TIMEOUT, client.watch(path, AddWatchMode::PersistentRecursive));
        let watcher = match added.await {
            Ok(Ok(watcher)) => watcher,
            Ok(Err(ZkError::Unimplemented)) => {
                return Err(ZookeeperError::WatchUnsupported {
                    ensemble: ensemble(),
                    path: path.clone(),
                })
            }
            Ok(Err(source)) => {
                return Err(ZookeeperError::Request {
                    ensemble: ensemble(),
                    op: "watching",
                    path: path.clone(),
                    source,
                })
            }
            Err(_) => {
                return Err(ZookeeperError::RequestTimeout {
                    ensemble: ensemble(),
                    op: "watching",
                    path: path.clone(),
                    timeout: REQUEST_TIMEOUT,
                })
            }
        };
        forwarders.spawn(forward(watcher, tx.clone()));
    }
    Ok(Armed { states, events, _forwarders: forwarders })
}

/// Sends `()` for every node event of `watcher` until its session is over.
async fn forward(mut watcher: PersistentWatcher, tx: UnboundedSender<()>) {
    loop {
        let event = watcher.changed().await;
        if event.event_type == EventType::Session {
            if event.session_state.is_terminated() {
                return; // the last event: `changed()` would panic from now on
            }
            continue; // the state watcher reports these
        }
        if tx.send(()).is_err() {
            return;
        }
    }
}

/// Why [`Watch::listen`] returned.
enum Ended {
    /// Stop flag set, or nobody receives the notices any more.
    Stop,
    /// The session is over; arm again on a new one.
    SessionOver,
    /// The session is connected again after a disconnection; arm again on it.
    Reconnected,
}

/// The state of one watch thread.
struct Watch<'a> {
    session: &'a Session,
    paths: Vec<String>,
    tx: Sender<Notice>,
    flag: StopFlag,
    /// `Down` was sent and `Up` not since.
    is_down: bool,
}

impl Watch<'_> {
    /// Runs until stopped; `first` is what arming did in [`start`].
    async fn run(mut self, first: Result<Armed, ZookeeperError>) {
        let mut next = first;
        let mut attempt = 0u32;
        // The watches listened to. Replaced only once new ones are armed: dropping the last
        // watch of a path would make the client library ask the server to remove it.
        let mut current: Option<Armed> = None;
        loop {
            match next {
                Ok(armed) => {
                    attempt = 0;
                    match self.listen(current.insert(armed)).await {
                        Ended::Stop => return,
                        Ended::SessionOver => current = None,
                        Ended::Reconnected => {}
                    }
                }
                Err(e) => {
                    if !self.down(e) || !self.pause(reconnect_delay(attempt)).await {
                        return;
                    }
                    attempt = attempt.saturating_add(1);
                }
            }
            if self.flag.is_set() {
                return;
            }
            next = arm(self.session, &self.paths).await;
            if next.is_ok() && !self.up() {
                return;
            }
        }
    }

    /// Reports what the armed watches and their session say, until the session reconnects
    /// or is over, or the watch is stopped.
    async fn listen(&mut self, armed: &mut Armed) -> Ended {
        let mut tick = tokio::time::interval(STOP_POLL);
        loop {
            let reported = tokio::select! {
                state = armed.states.changed() => match state {
                    s if s.is_terminated() => {
                        let lost = ZookeeperError::SessionEnded {
                            ensemble: self.session.ensemble().to_string(),
                            state: s,
                        };
                        return if self.down(lost) { Ended::SessionOver } else { Ended::Stop };
                    }
                    SessionState::Disconnected => self.down(ZookeeperError::ConnectionLost {
                        ensemble: self.session.ensemble().to_string(),
                    }),
                    // Connected again (to this server or another one of the ensemble).
                    _ => return Ended::Reconnected,
                },
                Some(()) = armed.events.recv() => {
                    while armed.events.try_recv().is_ok() {}
                    self.report(Notice::Changed)
                }
                _ = tick.tick() => !self.flag.is_set(),
            };
            if !reported {
                return Ended::Stop;
            }
        }
    }

    /// `Down` unless already down. False if nobody listens.
    fn down(&mut self, error: ZookeeperError) -> bool {
        if self.is_down {
            return true;
        }
        self.is_down = true;
        self.report(Notice::Down { error: Arc::new(error) })
    }

    /// `Up` if down, then `Changed`. False if nobody listens.
    fn up(&mut self) -> bool {
        if self.is_down {
            self.is_down = false;
            let endpoint = self.session.ensemble().to_string();
            if !self.report(Notice::Up { endpoint }) {
                return false;
            }
        }
        self.report(Notice::Changed)
    }

    fn report(&self, notice: Notice) -> bool {
        self.tx.send(notice).is_ok()
    }

    /// Waits `delay`, looking at the stop flag. False if it was set.
    async fn pause(&self, delay: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + delay;
        while tokio::time::Instant::now() < deadline {
            if self.flag.is_set() {
                return false;
            }
            tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + STOP_POLL)).await;
        }
        !self.flag.is_set()
    }
}

//! ZooKeeper for confd-rs: confd's reads (the leaves under a path) and a watch that tells the
//! daemon "something below these keys changed", built on the asynchronous
//! [`zookeeper-client`](https://docs.rs/zookeeper-client) crate and persistent recursive
//! watches (ZooKeeper 3.6 or later).
//!
//! ```no_run
//! use confd_zookeeper::{Zookeeper, ZookeeperConfig};
//!
//! let zk = Zookeeper::new(ZookeeperConfig { nodes: vec!["127.0.0.1:2181".into()] })?;
//! zk.probe()?;
//! let values = zk.read(&["/database".to_string(), "/upstream/*".to_string()])?;
//! for (key, value) in &values {
//!     println!("{key} = {value}");
//! }
//! # Ok::<(), confd_zookeeper::ZookeeperError>(())
//! ```
//!
//! # Why this client
//!
//! `zookeeper-client` (kezhuw) is maintained, asynchronous, and has what this backend needs:
//! persistent recursive watches, `multiRead`, a session-state watcher, reconnection within a
//! session, and TLS and SASL as options. The other candidate, the `zookeeper` crate
//! (bonifaido, 0.8), is synchronous with callbacks, runs on mio 0.6, is maintained only
//! sporadically, and by its own issue #97 does not re-send watches after a reconnection.
//! Neither re-arms persistent watches after a reconnection correctly: zookeeper-client 0.11.2
//! never sends its `SetWatches2` for them (a comparison of an index with itself in
//! `session/watch.rs`), so [`watch`](Zookeeper::watch) re-adds them itself after every
//! reconnection (and this stays correct once the library is fixed).
//!
//! # Theory of operation
//!
//! **The API is synchronous.** [`Zookeeper`] owns a small tokio runtime (one worker thread);
//! each method blocks on it. The client library spawns its session task on that runtime, so the
//! session keeps pinging and reconnecting between calls.
//!
//! **One session for reads and the watch.** ZooKeeper orders everything a client sees within
//! one session: a client sees a watch event before it can read the data that caused it, and a
//! read on that session after the event sees that data or newer. With two sessions the read
//! could land on a follower that has not applied the change yet and render stale values after
//! [`Notice::Changed`], which is the update-loss the watch contract forbids. One session also
//! costs the ensemble one connection instead of two. The session is shared through
//! `session::Session`, which hands out the current client and builds a new one when the old
//! session is over (expired, closed, or authentication failed).
//!
//! **Reads** ([`Zookeeper::read`]) do what confd's `GetValues` does: for each key (with `/*`
//! removed) walk the tree below it; a node without children is a leaf and its data (UTF-8, bad
//! bytes replaced) is the value at its full path; a node with children contributes only its
//! leaves, its own data is ignored. The key itself may be a leaf. The walk asks in batches: one
//! `multiRead` request (ZooKeeper 3.6+) carries "children" and "data" of 128 nodes, a few
//! batches in flight; a server without `multiRead` is asked node by node, pipelined (up to 256
//! requests in flight). Differences from confd, on purpose:
//!
//! - a key that does not exist contributes nothing (confd fails the whole read with "node does
//!   not exist"), so a template over an optional subtree renders instead of failing forever;
//! - a node deleted while the walk runs is skipped, not an error;
//! - every request has a time limit (5 s), and connecting has one (5 s), so a hung server
//!   (stopped process, black-holed network) is an error, never a hang.
//!
//! Like confd, a walk from `/` includes ZooKeeper's own `/zookeeper` subtree (the leaves
//! `/zookeeper/config` and `/zookeeper/quota`, and quota nodes if quotas are set). We keep that:
//! it is what confd renders, the nodes are world-readable by default, and templates rarely walk
//! `/`.
//!
//! **The watch** ([`Zookeeper::watch`]) adds one persistent recursive watch per key. Such a
//! watch fires for creations, deletions and data changes anywhere below its path, also for
//! paths that do not exist yet. Every burst of events becomes one [`Notice::Changed`]. The
//! order of reports follows [`confd_backend::notify`]: all watches are armed, then
//! [`Notice::Up`] and [`Notice::Changed`] are sent. On a lost connection the watch sends one
//! [`Notice::Down`]; the client library reconnects by itself, to any node, on the same
//! session; the watch then adds its watches again (the library does not re-add persistent
//! watches, see `watch`) and sends `Up` and `Changed` (events during the gap are lost).
//! When the session is over (the server expired it, or the client gave it up after 14 s
//! without a server that would take it back, e.g. a wiped store), the watch takes a new
//! session, arms again, and sends `Up` and `Changed`. The thread
//! ends within about a second once its [`WatchStop`] is stopped or dropped, or at the next
//! report after the receiving side of its channel is gone.
//!
//! A server older than 3.6 answers the watch request with "unimplemented"; [`Zookeeper::watch`]
//! then fails with [`ZookeeperError::WatchUnsupported`].

#![forbid(unsafe_code)]

mod read;
mod session;
mod watch;

use std::collections::BTreeMap;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use confd_backend::notify::{Notice, WatchStop};

use crate::session::Session;

/// Negotiated with the server (which clamps it to its own limits, 4 s to 40 s by default). The
/// client declares a connection dead after 2/5 of it without an answer (4 s) and the session
/// expired after 7/5 of it without a connection (14 s).
const SESSION_TIMEOUT: Duration = Duration::from_secs(10);
/// How long getting a session may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one request may wait for its answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// The port of a node given without one (ZooKeeper's, as in confd's client library).
const DEFAULT_PORT: u16 = 2181;

/// Where the ZooKeeper ensemble is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZookeeperConfig {
    /// `host:port` of each server (`host` alone means port 2181; IPv6 as `[::1]:2181`).
    pub nodes: Vec<String>,
}

/// A ZooKeeper ensemble: confd's reads and the change watch, over one shared session.
///
/// Cheap to share between threads (`Send + Sync`); the watch thread keeps what it needs alive,
/// so dropping the `Zookeeper` does not stop a watch (its [`WatchStop`] does).
pub struct Zookeeper {
    inner: Arc<Inner>,
}

struct Inner {
    /// `Some` until drop; taken there to shut it down without waiting for its tasks.
    rt: Option<tokio::runtime::Runtime>,
    session: Session,
    nodes: Vec<String>,
}

impl Inner {
    fn rt(&self) -> &tokio::runtime::Runtime {
        self.rt.as_ref().expect("the runtime lives until drop")
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl Zookeeper {
    /// Checks the nodes and starts the runtime. No I/O: an unreachable ensemble is reported by
    /// [`Zookeeper::probe`], [`Zookeeper::read`] and the watch.
    pub fn new(cfg: ZookeeperConfig) -> Result<Zookeeper, ZookeeperError> {
        if cfg.nodes.is_empty() {
            return Err(ZookeeperError::Config {
                node: String::new(),
                reason: "no ZooKeeper node given".into(),
            });
        }
        let mut connect = Vec::with_capacity(cfg.nodes.len());
        for node in &cfg.nodes {
            let hostport = parse_node(node)
                .map_err(|reason| ZookeeperError::Config { node: node.clone(), reason })?;
            connect.push(hostport);
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("confd-zookeeper")
            .enable_time()
            .build()
            .map_err(ZookeeperError::Runtime)?;
        let session = Session::new(connect.join(","));
        Ok(Zookeeper { inner: Arc::new(Inner { rt: Some(rt), session, nodes: cfg.nodes }) })
    }

    /// Checks within about 5 s that the ensemble answers on a session (made now if there is
    /// none), or says why not.
    pub fn probe(&self) -> Result<(), ZookeeperError> {
        let inner = &self.inner;
        let ensemble = inner.session.ensemble();
        let answered = async {
            let client = inner.session.client().await?;
            // A session that exists may be reconnecting: ask for something.
            client.check_stat("/").await.map(drop).map_err(|source| ZookeeperError::Request {
                ensemble: ensemble.to_string(),
                op: "checking",
                path: "/".into(),
                source,
            })
        };
        let limit = CONNECT_TIMEOUT + Duration::from_millis(500);
        inner.rt().block_on(async {
            tokio::time::timeout(limit, answered).await.unwrap_or_else(|_| {
                Err(ZookeeperError::RequestTimeout {
                    ensemble: ensemble.to_string(),
                    op: "checking",
                    path: "/".into(),
                    timeout: limit,
                })
            })
        })
    }

    /// confd's `GetValues`: every leaf under each key (`/*` removed), by full path. See the
    /// crate documentation for what a leaf is and where we differ from confd.
    pub fn read(&self, keys: &[String]) -> Result<BTreeMap<String, String>, ZookeeperError> {
        let roots = read::roots(keys, self.inner.session.ensemble())?;
        // The walk runs on the runtime's worker, beside the session task that answers it: no
        // thread hand-off per reply (which cost most of a read's time when polled from here).
        let inner = Arc::clone(&self.inner);
        let walk = self.inner.rt().spawn(async move {
            let client = inner.session.client().await?;
            read::walk(&client, &roots, inner.session.ensemble()).await
        });
        self.inner
            .rt()
            .block_on(walk)
            .map_err(|e| ZookeeperError::Runtime(std::io::Error::other(e.to_string())))?
    }

    /// Watches everything below `keys` (`/*` removed) and reports to `tx` (see the crate
    /// documentation). When the ensemble answers, every watch is armed and [`Notice::Up`] and
    /// [`Notice::Changed`] are sent before this returns; when it does not, this returns `Ok`
    /// and the watch thread sends [`Notice::Down`] and keeps trying. Errors: a key that is not a
    /// ZooKeeper path, a server without persistent recursive watches (before 3.6), a refusal
    /// (e.g. authentication), or a thread that cannot be started.
    pub fn watch(
        &self,
        keys: Vec<String>,
        tx: Sender<Notice>,
    ) -> Result<WatchStop, ZookeeperError> {
        watch::start(self.inner.clone(), &keys, tx)
    }

    /// The nodes, as configured.
    pub fn endpoints(&self) -> Vec<String> {
        self.inner.nodes.clone()
    }
}

/// `host:port` for the connect string, from `host`, `host:port`, `[v6]` or `[v6]:port`.
fn parse_node(node: &str) -> Result<String, String> {
    if node.is_empty() {
        return Err("empty node".into());
    }
    if node.contains("://") {
        return Err("expected host:port, without a scheme".into());
    }
    if let Some(c) = node.chars().find(|c| c.is_whitespace() || matches!(c, '/' | ',' | '@')) {
        return Err(format!("expected host:port; {c:?} is not allowed"));
    }
    let (host, port) = if let Some(rest) = node.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| "an IPv6 address needs its closing ]".to_string())?;
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(format!("unexpected {after:?} after the IPv6 address")),
            },
        }
    } else {
        match node.rsplit_once(':') {
            Some((host, _)) if host.contains(':') => {
                return Err("write an IPv6 address in brackets: [addr]:port".into())
            }
            Some((host, port)) => (host, Some(port)),
            None => (node, None),
        }
    };
    if host.is_empty() {
        return Err("empty host".into());
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(port) if port != 0 => port,
            _ => return Err(format!("invalid port {p:?}")),
        },
    };
    Ok(if node.starts_with('[') { format!("[{host}]:{port}") } else { format!("{host}:{port}") })
}

/// What went wrong, naming the ensemble (the connect string) and, where there is one, the path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZookeeperError {
    /// A node in the configuration cannot be used.
    #[error("zookeeper: invalid node {node:?}: {reason}")]
    Config { node: String, reason: String },
    /// A key is not a ZooKeeper path.
    #[error("zookeeper at {ensemble}: invalid key {key:?}: {reason}")]
    InvalidKey { ensemble: String, key: String, reason: String },
    /// No session could be made.
    #[error("zookeeper at {ensemble}: cannot connect: {source}")]
    Connect { ensemble: String, source: zookeeper_client::Error },
    /// No session within the connect time limit.
    #[error("zookeeper at {ensemble}: no session within {timeout:?} (server down or hung?)")]
    ConnectTimeout { ensemble: String, timeout: Duration },
    /// A request failed.
    #[error("zookeeper at {ensemble}: {op} {path}: {source}")]
    Request { ensemble: String, op: &'static str, path: String, source: zookeeper_client::Error },
    /// A request got no answer within the request time limit.
    #[error("zookeeper at {ensemble}: {op} {path}: no answer within {timeout:?}")]
    RequestTimeout { ensemble: String, op: &'static str, path: String, timeout: Duration },
    /// The server does not know the `addWatch` request.
    #[error(
        "zookeeper at {ensemble} does not support persistent recursive watches (needs 3.6 or \
         later); watching {path}"
    )]
    WatchUnsupported { ensemble: String, path: String },
    /// The watch lost its connection; the client reconnects by itself.
    #[error("zookeeper at {ensemble}: connection lost, reconnecting")]
    ConnectionLost { ensemble: String },
    /// The watch's session is over (expired, closed or refused); it takes a new one.
    #[error("zookeeper at {ensemble}: session {state}, starting a new one")]
    SessionEnded { ensemble: String, state: zookeeper_client::SessionState },
    /// The runtime or the watch thread could not be started.
    #[error("zookeeper: cannot start the client runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

impl ZookeeperError {
    /// Whether this is a connection-level failure (server down, hung, unreachable, session
    /// lost) rather than a refusal or a bad request: worth retrying as it is.
    pub fn is_unreachable(&self) -> bool {
        match self {
            Self::ConnectTimeout { .. }
            | Self::RequestTimeout { .. }
            | Self::ConnectionLost { .. }
            | Self::SessionEnded { .. } => true,
            Self::Connect { source, .. } | Self::Request { source, .. } => {
                is_connection_error(source)
            }
            Self::Config { .. }
            | Self::InvalidKey { .. }
            | Self::WatchUnsupported { .. }
            | Self::Runtime(_) => false,
        }
    }
}

/// Errors that say the session or its connection is in trouble, not the request.
fn is_connection_error(e: &zookeeper_client::Error) -> bool {
    use zookeeper_client::Error as E;
    matches!(
        e,
        E::ConnectionLoss
            | E::SessionExpired
            | E::SessionMoved
            | E::Timeout
            | E::NoHosts
            | E::ClientClosed
            | E::Custom(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(nodes: &[&str]) -> ZookeeperConfig {
        ZookeeperConfig { nodes: nodes.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn nodes_are_host_port() {
        assert_eq!(parse_node("127.0.0.1:2181").unwrap(), "127.0.0.1:2181");
        assert_eq!(parse_node("zk1").unwrap(), "zk1:2181");
        assert_eq!(parse_node("[::1]:2182").unwrap(), "[::1]:2182");
        assert_eq!(parse_node("[::1]").unwrap(), "[::1]:2181");
        for bad in ["", "http://zk:2181", "zk:0", "zk:x", ":2181", "::1:2181", "zk:2181/app", "a b"]
        {
            assert!(parse_node(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn new_names_the_bad_node() {
        let err = Zookeeper::new(cfg(&["127.0.0.1:2181", "zk:99999"])).err().unwrap();
        assert!(matches!(&err, ZookeeperError::Config { node, .. } if node == "zk:99999"));
        assert!(err.to_string().contains("zk:99999"), "{err}");
        assert!(!err.is_unreachable());
        assert!(Zookeeper::new(cfg(&[])).is_err());
        let zk = Zookeeper::new(cfg(&["127.0.0.1:2181", "zk2"])).unwrap();
        assert_eq!(zk.endpoints(), ["127.0.0.1:2181", "zk2"]);
        assert_eq!(zk.inner.session.ensemble(), "127.0.0.1:2181,zk2:2181");
    }

    #[test]
    fn zookeeper_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Zookeeper>();
        check::<ZookeeperError>();
    }
}

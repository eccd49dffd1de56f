//! etcd v3 for confd-rs: a connection layer that fails over, consistent prefix reads, and a
//! watch that never misses an update.
//!
//! The binary is synchronous; this crate keeps its async inside. [`Etcd`] owns a small tokio
//! runtime (two worker threads) and the connections; [`Etcd::read`] blocks the caller,
//! [`Etcd::watch`] starts a supervisor task on the runtime that sends [`WatchEvent`]s down a
//! `std::sync::mpsc` channel.
//!
//! # Theory of operation
//!
//! **Connections** (`conn`, `rpc`). One gRPC client per endpoint (`rpc`: tonic, with etcd's
//! messages written out in `rpc/proto.rs`, so building needs no `protoc`), and our own
//! fail-over between them: a call goes to the endpoint that last answered, then to the others
//! in turn, with a jittered backoff, at least three attempts (a balancer over all endpoints
//! keeps picking a dead member and never retries). Every client has a request timeout, a
//! connect timeout, HTTP/2 keep-alive (also while idle), `hasleader`, and with a user, its auth
//! token, renewed when etcd says it expired. A dead member costs one refused connection, a
//! hung (SIGSTOPped) one costs one request timeout; neither can hang a call. Errors are sorted into [`EtcdError`]s that say
//! what to check: unreachable (each endpoint and what happened there), timeout, wrong user or
//! password, permission denied (naming the prefix), TLS (naming the handshake failure).
//!
//! **Member discovery** (`discovery`, with [`EtcdConfig::member_refresh`]). The endpoints are
//! where to start: the member list is read at once and then periodically, and the endpoints in
//! use become the members' client URLs, so that `member add` / `member remove` are followed
//! without a restart. Endpoints that are not members (a grpc-proxy, a load balancer) are used
//! as given.
//!
//! **Reads** (`read`). Prefixes are path-aware (`/app` selects `/app` and `/app/...`, not
//! `/appX`; `/` selects everything) and reduced to the ones no other covers. Each becomes two
//! ranges — the key itself and `[k/, k0)` — sent in transactions of at most 128 operations; the
//! first transaction fixes the revision R, everything after it (later transactions and the
//! pages of long ranges) is read at R. The result is a [`Snapshot`]: every selected key at R.
//!
//! **Watching** (`watch`). One gRPC watch stream carrying one watcher per distinct prefix, each
//! over `[k, k0)` from its own next revision; events outside the path-aware prefix (`k-x`) are
//! dropped. Each watch response is delivered as one [`Update::Changes`], in order; the
//! supervisor remembers, per prefix, the revision after the last event applied, and resumes
//! there on any stream error, on any member. A watch cancelled because its start revision was
//! compacted, a header revision lower than what was applied (confirmed by a linearizable read,
//! so a lagging follower is not mistaken for a restored cluster), or a changed cluster ID,
//! triggers a full read delivered as [`Update::Resync`]; watching then continues from that
//! read's revision + 1. An idle stream is asked for progress every `progress_interval` (2 s);
//! no answer within the request timeout means the member hangs, and the stream moves elsewhere
//! (a SIGSTOPped member is left after about 5 s). While no member answers, the supervisor
//! retries with exponential backoff (capped at 5 s) and reports [`Health::Disconnected`] once,
//! then [`Health::Connected`] when a stream is back.
//!
//! Progress responses to our own progress requests are used as a liveness signal only, never
//! to advance the resume revision: etcd 3.4 can send them ahead of events still queued for a
//! catching-up watcher (etcd-io/etcd#15220). Server-initiated progress notifications, which
//! etcd sends only for watchers that are in sync, do advance it.
//!
//! **Registration** (`lease`). Leases (grant, one keep-alive round, revoke) and the writes of
//! a registration: the keys of one instance in one transaction, some attached to a lease, some
//! not; deleting them. All through the same fail-over; every one of them is idempotent, so a
//! retry after an ambiguous failure is safe. A refused write names the key, found by asking
//! etcd about each key without writing it.
#![forbid(unsafe_code)]

mod cluster;
mod conn;
mod discovery;
mod error;
mod lease;
mod prefix;
mod read;
mod rpc;
mod watch;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

pub use cluster::ClusterMember;
pub use error::{Attempt, EtcdError};
pub use lease::{Lease, LeaseId};

/// How to reach etcd.
#[derive(Clone)]
pub struct EtcdConfig {
    /// `http://host:port`, `https://host:port`, or `host:port` (https when `tls` is set).
    pub endpoints: Vec<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// CA, client certificate and key. Without it, `https://` endpoints are checked against
    /// the system's CA bundle.
    pub tls: Option<TlsConfig>,
    /// TCP (and TLS) connection set-up, per attempt. Default 2 s.
    pub connect_timeout: Duration,
    /// Each unary call, per attempt; also how long a watch stream may leave a progress request
    /// unanswered. Default 3 s.
    pub request_timeout: Duration,
    /// HTTP/2 keep-alive (interval, timeout), sent even while idle. Default (10 s, 5 s).
    pub keepalive: (Duration, Duration),
    /// After this long without a message, a watch stream asks etcd for progress; with no
    /// answer within `request_timeout` it is taken for dead. Default 2 s.
    pub progress_interval: Duration,
    /// Member discovery: how often to read the cluster's member list and use its members as
    /// the endpoints (`endpoints` are then only where to start). `None` (the default here;
    /// the binaries default to [`DEFAULT_MEMBER_REFRESH`]) uses `endpoints` as given.
    pub member_refresh: Option<Duration>,
    /// Told what member discovery does (see [`MembersNotice`]), from the connection's runtime.
    pub on_members: Option<MembersObserver>,
}

/// How often the binaries re-read the member list unless told otherwise.
pub const DEFAULT_MEMBER_REFRESH: Duration = Duration::from_secs(30);

/// A callback for [`MembersNotice`]s; it must return quickly (it runs on the runtime).
pub type MembersObserver = Arc<dyn Fn(MembersNotice) + Send + Sync>;

/// What member discovery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembersNotice {
    /// The endpoints in use are now `endpoints`, the members' client URLs.
    Following { endpoints: Vec<String>, added: Vec<String>, removed: Vec<String> },
    /// None of the configured `endpoints` is a member's client URL (a proxy, load balancer or
    /// alias): they are used as given from now on. Told once.
    AsGiven { endpoints: Vec<String>, members: Vec<String> },
    /// The member list was refused, or its URLs could not be used; the endpoints stay as they
    /// are. Told once until a list is read again (no member answering is not told: reads and
    /// the watch report that).
    Failed(EtcdError),
}

impl EtcdConfig {
    /// The defaults for `endpoints`, no authentication, no TLS.
    pub fn new(endpoints: Vec<String>) -> EtcdConfig {
        EtcdConfig {
            endpoints,
            username: None,
            password: None,
            tls: None,
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(3),
            keepalive: (Duration::from_secs(10), Duration::from_secs(5)),
            progress_interval: Duration::from_secs(2),
            member_refresh: None,
            on_members: None,
        }
    }
}

impl fmt::Debug for EtcdConfig {
    /// The password is never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EtcdConfig")
            .field("endpoints", &self.endpoints)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("keepalive", &self.keepalive)
            .field("progress_interval", &self.progress_interval)
            .field("member_refresh", &self.member_refresh)
            .field("on_members", &self.on_members.as_ref().map(|_| "<observer>"))
            .finish()
    }
}

/// PEM files for TLS; `cert` and `key` go together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// Every key the prefixes select, at one revision. Keys are full keys; keys and values that
/// are not UTF-8 are converted lossily.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub revision: i64,
    pub kvs: BTreeMap<String, String>,
}

/// What the watcher delivers, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// One watch response, to be applied as a unit, in order (a response can hold several
    /// revisions, and then the same key more than once). `None` means deleted. `revision` is
    /// the revision of the last event. Responses of different prefixes touch disjoint keys.
    Changes { revision: i64, changes: Vec<(String, Option<String>)> },
    /// The complete new state of the watched prefixes, replacing everything known: after the
    /// first read (when the watch started without one), after compaction, a revision that went
    /// backwards, or a changed cluster ID. The consumer diffs.
    Resync(Snapshot),
}

impl fmt::Display for MembersNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |urls: &[String]| if urls.is_empty() { "none".into() } else { urls.join(", ") };
        match self {
            MembersNotice::Following { endpoints, added, removed } => write!(
                f,
                "etcd members changed: using {} (added: {}; removed: {})",
                endpoints.join(", "),
                list(added),
                list(removed)
            ),
            MembersNotice::AsGiven { endpoints, members } => write!(
                f,
                "etcd: {} is not a member's client URL (the members advertise {}): a proxy or a \
                 load balancer? It is used as given, and member changes are not followed",
                endpoints.join(", "),
                members.join(", ")
            ),
            MembersNotice::Failed(e) => {
                write!(f, "etcd: cannot read the cluster's member list: {e}")
            }
        }
    }
}

/// The watch's connection state; sent only when it changes, so each can be logged as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// A watch stream is established (for the first time, or again after `Disconnected`).
    Connected { endpoint: String },
    /// The stream failed and was re-established on `endpoint` without an outage.
    Reconnected { endpoint: String, reason: String },
    /// No member could be used; retrying with backoff (at most every 5 s). Sent once per
    /// outage; the last good state stays valid.
    Disconnected { error: EtcdError },
    /// A full read is under way; an [`Update::Resync`] follows.
    Resyncing { reason: String },
    /// etcd refused one watch over the range covering `prefixes` (the user may read the
    /// prefixes, not what lies between them): each prefix is watched on its own from now on,
    /// so a transaction that spans several of them arrives as one update per prefix.
    Split { prefixes: String, endpoint: String },
}

/// One message from a watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    Update(Update),
    Status(Health),
    /// Every change of the watched prefixes up to `revision` has been delivered (from an
    /// event response or a progress notification): how far the consumer has caught up with
    /// the store, whether or not the watched keys changed.
    Synced {
        revision: i64,
    },
}

/// A connection to an etcd cluster, usable from synchronous code.
pub struct Etcd {
    inner: Arc<Inner>,
}

struct Inner {
    rt: Option<tokio::runtime::Runtime>,
    conn: Arc<conn::Conn>,
    progress_interval: Duration,
}

impl Inner {
    fn rt(&self) -> &tokio::runtime::Runtime {
        self.rt.as_ref().expect("runtime lives until drop")
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

impl Etcd {
    /// Checks the configuration, loads the TLS files and, when a user is set, authenticates
    /// against the first endpoint that answers, so that a wrong password is one clear error
    /// here. Unreachable endpoints are not an error yet: reads say so, watches wait.
    pub fn connect(cfg: EtcdConfig) -> Result<Etcd, EtcdError> {
        let conn = Arc::new(conn::Conn::new(&cfg)?);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("confd-etcd")
            .enable_all()
            .build()
            .map_err(|e| EtcdError::Config(format!("cannot start the etcd runtime: {e}")))?;
        if cfg.username.is_some() {
            rt.block_on(conn.authenticate())?;
        }
        if let Some(every) = cfg.member_refresh.filter(|d| !d.is_zero()) {
            rt.spawn(discovery::run(conn.clone(), every, cfg.on_members.clone()));
        }
        Ok(Etcd {
            inner: Arc::new(Inner { rt: Some(rt), conn, progress_interval: cfg.progress_interval }),
        })
    }

    /// The endpoints in use: as configured, or the members member discovery found.
    pub fn endpoints(&self) -> Vec<String> {
        self.inner.conn.endpoints()
    }

    /// Every key the prefixes select, all at one revision. A prefix selects its own key and
    /// the keys below `prefix/`; `/` selects everything.
    pub fn read(&self, prefixes: &[String]) -> Result<Snapshot, EtcdError> {
        let cover = prefix::cover(prefixes);
        self.inner.rt().block_on(read::read(&self.inner.conn, &cover))
    }

    /// The keys below `dir/` (not `dir` itself), without values: what a registrar granted
    /// only `dir/` may list.
    pub fn keys_below(&self, dir: &str) -> Result<Vec<String>, EtcdError> {
        self.inner.rt().block_on(lease::keys_below(&self.inner.conn, dir))
    }

    /// The cluster's members as etcd lists them now (any member answers; the list is the
    /// cluster's, not only the configured endpoints).
    pub fn members(&self) -> Result<Vec<ClusterMember>, EtcdError> {
        self.inner.rt().block_on(cluster::members(&self.inner.conn))
    }

    /// Grants a lease of `ttl` seconds. etcd may grant more (its minimum is 1.5 × its election
    /// timeout, 2 s by default): the returned [`Lease`] says what it granted.
    pub fn grant(&self, ttl: i64) -> Result<Lease, EtcdError> {
        self.inner.rt().block_on(lease::grant(&self.inner.conn, ttl))
    }

    /// Renews `lease` once: `Some(ttl)`, the seconds it now has left, or `None` when it no
    /// longer exists (expired or revoked; its keys are gone).
    pub fn keep_alive(&self, lease: LeaseId) -> Result<Option<i64>, EtcdError> {
        self.inner.rt().block_on(lease::keep_alive(&self.inner.conn, lease))
    }

    /// Writes `shared` (without a lease: they outlive it) and `leased` (attached to `lease`:
    /// they go when it expires or is revoked) in one transaction: all of them or none.
    /// [`EtcdError::LeaseNotFound`] when the lease is gone; a refused write names the key.
    pub fn register(
        &self,
        lease: LeaseId,
        shared: &[(String, String)],
        leased: &[(String, String)],
    ) -> Result<(), EtcdError> {
        self.inner.rt().block_on(lease::register(&self.inner.conn, lease, shared, leased))
    }

    /// Deletes `keys` in one transaction. Keys that do not exist are not an error.
    pub fn deregister(&self, keys: &[String]) -> Result<(), EtcdError> {
        self.inner.rt().block_on(lease::deregister(&self.inner.conn, keys))
    }

    /// Revokes `lease`, deleting every key attached to it at once. A lease that no longer
    /// exists is not an error.
    pub fn revoke(&self, lease: LeaseId) -> Result<(), EtcdError> {
        self.inner.rt().block_on(lease::revoke(&self.inner.conn, lease))
    }

    /// Whether this client may write every one of `keys`, asked without writing anything:
    /// `Ok`, or [`EtcdError::WriteDenied`] naming the first key it may not write.
    pub fn check_writable(&self, keys: &[String]) -> Result<(), EtcdError> {
        self.inner.rt().block_on(lease::check_writable(&self.inner.conn, keys))
    }

    /// Starts watching `prefixes` and sending what changes to `tx`.
    ///
    /// `from` is the revision of the state the caller holds (a [`Snapshot`]'s `revision`):
    /// changes after it are delivered. With `None` the caller holds nothing yet: the watcher
    /// reads first (waiting for etcd if need be) and delivers that as an [`Update::Resync`];
    /// nothing is delivered before that read is complete. The watch ends when the handle is
    /// stopped or dropped, or when `tx`'s receiver is gone.
    pub fn watch(
        &self,
        prefixes: Vec<String>,
        from: Option<i64>,
        tx: Sender<WatchEvent>,
    ) -> WatchHandle {
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let supervisor = watch::Supervisor::new(
            self.inner.conn.clone(),
            prefix::cover(&prefixes),
            from,
            tx,
            self.inner.progress_interval,
        );
        let join = self.inner.rt().spawn(async move {
            tokio::select! {
                _ = stop_rx => {}
                _ = supervisor.run() => {}
            }
        });
        WatchHandle { stop: Some(stop_tx), join: Some(join), inner: self.inner.clone() }
    }
}

/// A running watch. Dropping it stops the watch.
pub struct WatchHandle {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    join: Option<tokio::task::JoinHandle<()>>,
    inner: Arc<Inner>,
}

impl WatchHandle {
    /// Stops the watch and waits until it has stopped: nothing is sent after this returns.
    pub fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(j) = self.join.take() {
            let _ = self.inner.rt().block_on(j);
        }
    }

    /// Whether the watch has ended (stopped, or its receiver is gone).
    pub fn is_finished(&self) -> bool {
        self.join.as_ref().is_none_or(|j| j.is_finished())
    }
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let mut cfg = EtcdConfig::new(vec!["http://127.0.0.1:2379".into()]);
        cfg.username = Some("confd".into());
        cfg.password = Some("s3cret-pw".into());
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("s3cret-pw"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}

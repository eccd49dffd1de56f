//! The redis backend of confd-rs: confd's reads (strings, hashes, the keys under a key) and a
//! watch through keyspace notifications that survives server restarts.
//!
//! ```no_run
//! use confd_redis::{Redis, RedisConfig};
//!
//! let redis = Redis::new(RedisConfig {
//!     nodes: vec!["127.0.0.1:6379/2".into()],
//!     username: None,
//!     password: Some("secret".into()),
//!     separator: String::new(),
//! })?;
//! redis.probe()?;
//! let values = redis.read(&["/database".to_string(), "/key".to_string()])?;
//! let (tx, rx) = std::sync::mpsc::channel();
//! let _stop = redis.watch(vec!["/database".into()], tx)?;
//! # Ok::<(), confd_redis::RedisError>(())
//! ```
//!
//! # Theory of operation
//!
//! **Nodes** are `host:port`, `host:port/db` (database `db` is selected) or a unix socket path
//! (anything starting with `/`, used whole, always database 0: confd splits nodes at the first
//! `/`, which cannot work for a path). They are tried in order until one connects; a TCP
//! connect may take 1 s, every answer 5 s, so a hung server cannot hang the daemon.
//! `AUTH [username] password` follows when a password is given (a username needs redis 6's
//! ACLs).
//!
//! **Keys** map to redis keys through the separator (`""` means `/`): with `/` they are the
//! same; with another separator `/a/b` is stored as `a<sep>b` and redis keys map back with `/`
//! put first and every separator turned into `/`.
//!
//! **Reads** ([`Redis::read`]) keep one connection for the next read. Each key is read as
//! confd does (see `read.rs`): a string is the key's value, a hash gives `<key>/<field>`
//! entries, anything else means the keys under `<key><sep>`. Differences from confd, all
//! deliberate: glob characters in keys are escaped in SCAN patterns (confd's `/a*` would also
//! match `/aXb/...`); a trailing `/` on a key is ignored (confd would find nothing); keys and
//! values that are not UTF-8 are read with U+FFFD for the bad bytes (confd passes the bytes
//! through); a connection that broke since the last read (a restarted server) is replaced and
//! the read retried once, but a server that does not answer within 5 s is an error at once.
//!
//! **The watch** ([`Redis::watch`], `watch.rs`) has a pub/sub connection of its own per watch
//! and the thread that reads it, and reports through [`confd_backend::notify::Notice`]: `Up`
//! and `Changed` once subscribed (armed first), `Changed` for every burst of keyspace events
//! under the watched keys, `Down` when the connection is lost, then `Up` and `Changed` again.
//! It needs `notify-keyspace-events` to include `K$ghx` (or `KA`; see `keyspace.rs`); where the
//! server refuses `CONFIG GET` the setting cannot be checked and the watch goes on trusting it.
//!
//! **Secrets**: the password is only ever sent in `AUTH`; no error, `Debug` output or log of
//! this crate contains it.
#![forbid(unsafe_code)]

mod error;
mod keys;
mod keyspace;
mod node;
mod read;
mod watch;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, PoisonError};

use confd_backend::notify::{Notice, WatchStop};

pub use error::RedisError;

use keys::KeyMap;
use node::{Conn, Credentials, Node};

/// How to reach redis, as the command line gives it.
#[derive(Clone, Default)]
pub struct RedisConfig {
    /// `host:port`, `host:port/db` or a socket path; tried in order.
    pub nodes: Vec<String>,
    /// ACL user (redis 6+); only used with a password. Empty means none.
    pub username: Option<String>,
    /// Sent with `AUTH`; empty means none.
    pub password: Option<String>,
    /// confd's `-separator`: how `/` is written in redis keys; `""` means `/`.
    pub separator: String,
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("nodes", &self.nodes)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("separator", &self.separator)
            .finish()
    }
}

/// A redis backend: reads from the calling thread, watches on threads of their own.
pub struct Redis {
    shared: Arc<Shared>,
    /// The read connection, kept between reads.
    conn: Mutex<Option<Conn>>,
}

/// What reads and watches share.
pub(crate) struct Shared {
    pub(crate) nodes: Vec<Node>,
    username: Option<String>,
    password: Option<String>,
    pub(crate) map: KeyMap,
}

impl Shared {
    /// A new connection to the first node that takes it.
    pub(crate) fn connect(&self) -> Result<Conn, RedisError> {
        let cred =
            Credentials { username: self.username.as_deref(), password: self.password.as_deref() };
        node::connect_any(&self.nodes, &cred)
    }
}

impl Redis {
    /// Parses the nodes; connects to nothing yet. A node that does not parse is a
    /// [`RedisError::Config`] naming it; an empty list is [`RedisError::NoNodes`].
    pub fn new(cfg: RedisConfig) -> Result<Redis, RedisError> {
        let nodes = cfg.nodes.iter().map(|n| Node::parse(n)).collect::<Result<Vec<_>, _>>()?;
        if nodes.is_empty() {
            return Err(RedisError::NoNodes);
        }
        let shared = Shared {
            nodes,
            // Empty means none, as in confd (no AUTH is sent).
            username: cfg.username.filter(|u| !u.is_empty()),
            password: cfg.password.filter(|p| !p.is_empty()),
            map: KeyMap::new(&cfg.separator),
        };
        Ok(Redis { shared: Arc::new(shared), conn: Mutex::new(None) })
    }

    /// Connects (nodes in order), authenticates and PINGs; the connection is kept for reads.
    pub fn probe(&self) -> Result<(), RedisError> {
        self.with_conn(|con, node| {
            redis::cmd("PING")
                .query::<redis::Value>(con)
                .map(drop)
                .map_err(|e| RedisError::from_command(node, "PING", b"", e))
        })
    }

    /// Reads `keys` as confd's `GetValues` does (see the crate docs): one map of every value
    /// found, keyed by confd keys.
    pub fn read(&self, keys: &[String]) -> Result<BTreeMap<String, String>, RedisError> {
        let map = &self.shared.map;
        self.with_conn(|con, node| read::read_keys(con, node, map, keys))
    }

    /// Watches `keys` (and everything under them) on a connection and thread of its own; see
    /// [`confd_backend::notify`] for what `tx` receives. Returns once subscribed (after `Up`
    /// and `Changed`), or at once with `Down` sent when no node can be reached (the thread
    /// keeps trying). Errors: a refused password, keyspace events switched off
    /// ([`RedisError::KeyspaceEventsOff`]), a refused `PSUBSCRIBE`. The thread ends when the
    /// returned [`WatchStop`] is stopped or dropped, or `tx`'s receiver is gone.
    pub fn watch(&self, keys: Vec<String>, tx: Sender<Notice>) -> Result<WatchStop, RedisError> {
        watch::start(self.shared.clone(), keys, tx)
    }

    /// The nodes as configured, in order.
    pub fn endpoints(&self) -> Vec<String> {
        self.shared.nodes.iter().map(|n| n.name.clone()).collect()
    }

    /// Runs `f` on the kept connection (made first if there is none). A kept connection that
    /// turns out broken (closed or reset, e.g. the server restarted) is replaced and `f` runs
    /// once more; a connection that failed at the connection level is never kept.
    fn with_conn<T>(
        &self,
        mut f: impl FnMut(&mut redis::Connection, &str) -> Result<T, RedisError>,
    ) -> Result<T, RedisError> {
        let mut slot = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut conn, reused) = match slot.take() {
            Some(conn) => (conn, true),
            None => (self.shared.connect()?, false),
        };
        let mut result = f(&mut conn.con, &self.shared.nodes[conn.node].name);
        if reused && matches!(&result, Err(e) if e.is_dropped_connection()) {
            conn = self.shared.connect()?;
            result = f(&mut conn.con, &self.shared.nodes[conn.node].name);
        }
        if !matches!(&result, Err(e) if e.is_unreachable()) {
            *slot = Some(conn);
        }
        result
    }
}

impl fmt::Debug for Redis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis")
            .field("nodes", &self.endpoints())
            .field("username", &self.shared.username)
            .field("password", &self.shared.password.as_ref().map(|_| "<redacted>"))
            .field("separator", &self.shared.map)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(nodes: &[&str]) -> RedisConfig {
        RedisConfig {
            nodes: nodes.iter().map(|n| n.to_string()).collect(),
            password: Some("s3cr3t-pw".into()),
            ..RedisConfig::default()
        }
    }

    #[test]
    fn redis_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Redis>();
        check::<RedisError>();
    }

    #[test]
    fn new_checks_every_node_and_keeps_their_order() {
        let redis = Redis::new(config(&["127.0.0.1:6380/2", "/run/redis.sock"])).unwrap();
        assert_eq!(redis.endpoints(), ["127.0.0.1:6380/2", "/run/redis.sock"]);
        let e = Redis::new(config(&["127.0.0.1:6380", "localhost"])).unwrap_err();
        assert!(e.to_string().contains("\"localhost\""), "{e}");
        assert!(!e.is_unreachable());
        assert!(matches!(Redis::new(config(&[])), Err(RedisError::NoNodes)));
    }

    #[test]
    fn debug_output_hides_the_password() {
        let cfg = config(&["127.0.0.1:6380"]);
        assert!(!format!("{cfg:?}").contains("s3cr3t-pw"));
        let redis = Redis::new(cfg).unwrap();
        let text = format!("{redis:?}");
        assert!(!text.contains("s3cr3t-pw") && text.contains("<redacted>"), "{text}");
    }

    #[test]
    fn the_keyspace_message_says_how_to_fix_it() {
        let e = RedisError::KeyspaceEventsOff { node: "127.0.0.1:6379".into(), have: "".into() };
        let text = e.to_string();
        assert!(text.contains("127.0.0.1:6379"), "{text}");
        assert!(text.contains("CONFIG SET notify-keyspace-events K$ghx"), "{text}");
        assert!(text.contains("notify-keyspace-events \"K$ghx\""), "{text}");
        assert!(!e.is_unreachable());
    }
}

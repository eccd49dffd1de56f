//! What can go wrong, each naming the node it happened at.

use std::fmt::Write as _;

/// An error of the redis backend. Every variant that involves a server names its node as
/// `host:port`, `host:port/db` or the socket path, exactly as configured. No variant holds the
/// password, and `Debug` shows nothing that `Display` hides.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisError {
    /// A node that cannot be parsed (bad port, database number, URL instead of `host:port`).
    #[error("redis node {node:?}: {reason}")]
    Config { node: String, reason: String },
    /// The node list is empty.
    #[error("no redis node given")]
    NoNodes,
    /// The node cannot be reached, or stopped answering: refused, timed out, reset, closed.
    #[error("cannot reach redis at {node}: {}", describe(source))]
    Unreachable { node: String, source: redis::RedisError },
    /// Every node of a list of several could not be reached; one entry per node, in order.
    #[error("cannot reach any redis node: {}", join(errors))]
    NoneReachable { errors: Vec<RedisError> },
    /// `AUTH` failed: wrong password or user, or a password given to a server that has none.
    #[error("redis at {node} refused the password: {detail}")]
    Auth { node: String, detail: String },
    /// The server wants a password and none was given (`NOAUTH`).
    #[error("redis at {node} requires a password and none was given: {detail}")]
    AuthRequired { node: String, detail: String },
    /// `SELECT db` failed (a database number the server does not have).
    #[error("redis at {node} cannot select database {db}: {}", describe(source))]
    Database { node: String, db: u32, source: redis::RedisError },
    /// A command failed or answered something unexpected.
    #[error("redis at {node}: {command} {key:?} failed: {}", describe(source))]
    Command { node: String, command: &'static str, key: String, source: redis::RedisError },
    /// The server does not publish the keyspace events a watch needs
    /// (`notify-keyspace-events` is `have`).
    #[error(
        "redis at {node} does not publish the keyspace events the watch needs: \
         notify-keyspace-events is {have:?}, it needs K plus g, $, h and x (or KA); \
         run `CONFIG SET notify-keyspace-events {fix}` or put `notify-keyspace-events \"{fix}\"` \
         in redis.conf",
        fix = crate::keyspace::suggest(have)
    )]
    KeyspaceEventsOff { node: String, have: String },
    /// The watch thread could not be started.
    #[error("cannot start the redis watch thread: {source}")]
    Thread { source: std::io::Error },
}

impl RedisError {
    /// True for failures to reach a server or to keep talking to it (refused, timed out, reset,
    /// closed); false for a wrong password, a bad node, missing keyspace events or a command
    /// the server refused, which retrying will not fix.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, RedisError::Unreachable { .. } | RedisError::NoneReachable { .. })
    }

    /// Files a failure of `command` on `key` under the right variant.
    pub(crate) fn from_command(
        node: &str,
        command: &'static str,
        key: &[u8],
        source: redis::RedisError,
    ) -> RedisError {
        let node = node.to_string();
        if is_connection_error(&source) {
            RedisError::Unreachable { node, source }
        } else if source.code() == Some("NOAUTH") {
            RedisError::AuthRequired { node, detail: server_text(&source) }
        } else {
            let key = String::from_utf8_lossy(key).into_owned();
            RedisError::Command { node, command, key, source }
        }
    }

    /// True when the connection itself broke (reset, closed, refused) rather than timing out:
    /// the one case where a read retries at once on a fresh connection.
    pub(crate) fn is_dropped_connection(&self) -> bool {
        match self {
            RedisError::Unreachable { source, .. } => {
                source.is_connection_dropped() && !source.is_timeout()
            }
            _ => false,
        }
    }
}

/// An I/O failure of the connection, as opposed to an answer of the server.
pub(crate) fn is_connection_error(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal()
}

/// A server error as redis-cli prints it (`WRONGPASS invalid username-password pair ...`).
pub(crate) fn server_text(e: &redis::RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        (Some(code), None) => code.to_string(),
        _ => e.to_string(),
    }
}

/// The cause in words: timeouts say so plainly (Linux reports a socket timeout as "Resource
/// temporarily unavailable").
fn describe(e: &redis::RedisError) -> String {
    if e.is_timeout() {
        "no answer in time (timed out)".to_string()
    } else {
        server_text(e)
    }
}

fn join(errors: &[RedisError]) -> String {
    let mut out = String::new();
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        let _ = write!(out, "{e}");
    }
    out
}

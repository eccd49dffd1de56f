//! Nodes (`host:port[/db]` or a socket path) and connecting to them: TCP or unix socket, then
//! `AUTH` and `SELECT` done by us, so that each failure gets its own error.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{is_connection_error, server_text, RedisError};

/// How long a TCP connect may take, per node.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long any command may wait for its answer (and its request for the socket).
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// One configured node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Node {
    /// As configured (trimmed): what every message and `endpoints()` shows.
    pub(crate) name: String,
    pub(crate) addr: Addr,
    /// The database to `SELECT` (0 needs none).
    pub(crate) db: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Addr {
    Tcp { host: String, port: u16 },
    Unix(PathBuf),
}

/// What a connection needs besides the node.
pub(crate) struct Credentials<'a> {
    pub(crate) username: Option<&'a str>,
    pub(crate) password: Option<&'a str>,
}

/// An open, authenticated connection with the database selected.
pub(crate) struct Conn {
    pub(crate) con: redis::Connection,
    /// Index into the node list.
    pub(crate) node: usize,
}

impl Node {
    /// Parses `host:port`, `host:port/db`, `[v6]:port[/db]`, or a socket path (anything
    /// starting with `/`, used whole: a socket node cannot carry a database number).
    pub(crate) fn parse(text: &str) -> Result<Node, RedisError> {
        let name = text.trim().to_string();
        let bad = |reason: &str| RedisError::Config { node: name.clone(), reason: reason.into() };
        if name.is_empty() {
            return Err(bad("empty node"));
        }
        if name.starts_with('/') {
            let addr = Addr::Unix(PathBuf::from(&name));
            return Ok(Node { name, addr, db: 0 });
        }
        if name.contains("://") {
            return Err(bad("give host:port (optionally /db) or a socket path, not a URL"));
        }
        let (hostport, db) = match name.split_once('/') {
            None => (name.as_str(), 0),
            Some((hp, db)) => match db.parse::<u32>() {
                Ok(db) => (hp, db),
                Err(_) => return Err(bad(&format!("database number {db:?} is not a number"))),
            },
        };
        let (host, port) = split_host_port(hostport).ok_or_else(|| {
            bad("expected host:port (a socket path must start with /), e.g. 127.0.0.1:6379")
        })?;
        let port = match port.parse::<u16>() {
            Ok(p) if p != 0 => p,
            _ => return Err(bad(&format!("port {port:?} is not a port number"))),
        };
        let addr = Addr::Tcp { host: host.to_string(), port };
        Ok(Node { name, addr, db })
    }

    /// Connects, authenticates and selects the database, each step bounded: 1 s to connect,
    /// 5 s per answer. The connection keeps 5 s read and write timeouts.
    pub(crate) fn connect(&self, cred: &Credentials<'_>) -> Result<redis::Connection, RedisError> {
        let unreachable = |source| RedisError::Unreachable { node: self.name.clone(), source };
        let addr = match &self.addr {
            Addr::Tcp { host, port } => redis::ConnectionAddr::Tcp(host.clone(), *port),
            Addr::Unix(path) => redis::ConnectionAddr::Unix(path.clone()),
        };
        // No password or database here: we send AUTH and SELECT ourselves, below. Nothing is
        // sent during the connect, then (no CLIENT SETINFO either).
        let info = redis::IntoConnectionInfo::into_connection_info(addr)
            .map_err(unreachable)?
            .set_redis_settings(redis::RedisConnectionInfo::default().set_skip_set_lib_name());
        let client = redis::Client::open(info).map_err(unreachable)?;
        let mut con = client.get_connection_with_timeout(CONNECT_TIMEOUT).map_err(unreachable)?;
        con.set_read_timeout(Some(IO_TIMEOUT)).map_err(unreachable)?;
        con.set_write_timeout(Some(IO_TIMEOUT)).map_err(unreachable)?;
        if let Some(password) = cred.password {
            let mut auth = redis::cmd("AUTH");
            if let Some(user) = cred.username {
                auth.arg(user);
            }
            auth.arg(password);
            if let Err(e) = auth.query::<redis::Value>(&mut con) {
                if is_connection_error(&e) {
                    return Err(unreachable(e));
                }
                let detail = server_text(&e).replace(password, "<password>");
                return Err(RedisError::Auth { node: self.name.clone(), detail });
            }
        }
        if self.db != 0 {
            if let Err(e) = redis::cmd("SELECT").arg(self.db).query::<redis::Value>(&mut con) {
                return Err(match RedisError::from_command(&self.name, "SELECT", b"", e) {
                    RedisError::Command { node, source, .. } => {
                        RedisError::Database { node, db: self.db, source }
                    }
                    other => other,
                });
            }
        }
        Ok(con)
    }
}

/// `host:port` or `[v6]:port`; a bare IPv6 address without brackets is ambiguous and refused.
fn split_host_port(s: &str) -> Option<(&str, &str)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return (!host.is_empty()).then_some((host, port));
    }
    let (host, port) = s.rsplit_once(':')?;
    (!host.is_empty() && !host.contains(':')).then_some((host, port))
}

/// Tries `nodes` in order and returns the first that connects, authenticates and selects its
/// database. When none does, the error is the first that is not about reaching a node (a
/// wrong password says more than a refused connection), else the one node's error, else
/// [`RedisError::NoneReachable`] listing all.
pub(crate) fn connect_any(nodes: &[Node], cred: &Credentials<'_>) -> Result<Conn, RedisError> {
    let mut unreachable = Vec::new();
    let mut other = None;
    for (i, node) in nodes.iter().enumerate() {
        match node.connect(cred) {
            Ok(con) => return Ok(Conn { con, node: i }),
            Err(e) if e.is_unreachable() => unreachable.push(e),
            Err(e) => {
                other.get_or_insert(e);
            }
        }
    }
    if let Some(e) = other {
        return Err(e);
    }
    match unreachable.len() {
        0 => Err(RedisError::NoNodes),
        1 => Err(unreachable.remove(0)),
        _ => Err(RedisError::NoneReachable { errors: unreachable }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> Addr {
        Addr::Tcp { host: host.into(), port }
    }

    #[test]
    fn parses_the_node_forms() {
        let n = Node::parse(" 127.0.0.1:6379 ").unwrap();
        assert_eq!((n.name.as_str(), n.addr, n.db), ("127.0.0.1:6379", tcp("127.0.0.1", 6379), 0));
        let n = Node::parse("redis.local:7000/2").unwrap();
        assert_eq!((n.addr, n.db), (tcp("redis.local", 7000), 2));
        let n = Node::parse("[::1]:6379/1").unwrap();
        assert_eq!((n.addr, n.db), (tcp("::1", 6379), 1));
        let n = Node::parse("/run/redis/redis.sock").unwrap();
        assert_eq!((n.addr, n.db), (Addr::Unix("/run/redis/redis.sock".into()), 0));
        // A socket path is used whole, digits or not.
        let n = Node::parse("/run/redis/3").unwrap();
        assert_eq!((n.addr, n.db), (Addr::Unix("/run/redis/3".into()), 0));
    }

    #[test]
    fn bad_nodes_are_named_in_the_error() {
        for (node, why) in [
            ("", "empty"),
            ("127.0.0.1", "host:port"),
            ("127.0.0.1:", "port"),
            ("127.0.0.1:0", "port"),
            ("127.0.0.1:99999", "port"),
            (":6379", "host:port"),
            ("::1:6379", "host:port"),
            ("127.0.0.1:6379/x", "database number"),
            ("127.0.0.1:6379/-1", "database number"),
            ("redis://127.0.0.1:6379", "not a URL"),
        ] {
            let e = Node::parse(node).unwrap_err();
            let text = e.to_string();
            assert!(matches!(e, RedisError::Config { .. }), "{node}: {e:?}");
            assert!(text.contains(&format!("{node:?}")) && text.contains(why), "{node}: {text}");
        }
    }
}

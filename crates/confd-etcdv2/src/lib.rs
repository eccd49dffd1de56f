//! The etcd v2 API for confd-rs (`-backend etcdv2`): what the seed's `etcdctl set` writes, and
//! what registrators of that era (gliderlabs/registrator) and long-lived confd deployments
//! still write. etcd 3.4 serves it with `--enable-v2`; its keys are separate from the v3 ones.
//!
//! - **Reads** ([`EtcdV2::read`]): one recursive, sorted, quorum `GET` per key, keeping the
//!   leaves as confd 0.16's v2 client does (directories contribute only their keys). A key
//!   that does not exist contributes nothing (confd failed the resource). A tree too deep for
//!   one JSON answer is read level by level instead.
//! - **Watch** ([`EtcdV2::watch`], `watch.rs`): one long poll (`wait=true&recursive=true`) on
//!   the deepest directory holding every key, from a `waitIndex` that follows each event, so
//!   nothing between two polls is missed (confd's watch started "from now" each time and
//!   could miss changes, its issue #671). When etcd has cleared that index from its history
//!   (it keeps 1,000 events) the watch resumes at etcd's current index and reports a change,
//!   so everything is read again. See [`confd_backend::notify`] for the contract.
//! - **Members**: every `-node` is tried in turn, starting with the one that last answered;
//!   a member that does not answer within [`CONNECT_TIMEOUT`] / [`HEADER_TIMEOUT`] (a hung one,
//!   say) is skipped.
//! - **Authentication**: HTTP basic auth (etcd's v2 users and roles). **TLS**: `https://`
//!   nodes, or every bare `host:port` once TLS is configured, with a CA bundle and an
//!   optional client certificate, through `confd_http::tls`.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use confd_backend::notify::{Notice, WatchStop};
use confd_http::tls::{TlsClient, TlsError, TlsSettings};
use confd_http::{Conn, HttpError, Request, Response};

mod watch;
pub mod wire;

use wire::{ErrorBody, NodeAnswer, KEY_NOT_FOUND};

/// How long a connection to a member may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a member may take to answer a request's headers (confd's v2 client: 3 s).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a read's body may take.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// How to reach etcd.
#[derive(Debug, Clone, Default)]
pub struct EtcdV2Config {
    /// `http://host:port`, `https://host:port` or `host:port`.
    pub nodes: Vec<String>,
    /// Basic auth; only with both set.
    pub username: Option<String>,
    pub password: Option<String>,
    /// TLS for `https://` nodes, and for bare `host:port` nodes.
    pub tls: Option<TlsSettings>,
}

/// What went wrong talking to etcd.
#[derive(Debug, thiserror::Error)]
pub enum EtcdV2Error {
    #[error("etcd node {node:?}: {why}")]
    BadNode { node: String, why: &'static str },
    #[error("etcd TLS: {0}")]
    Tls(#[from] TlsError),
    #[error("no etcd member answered: {}", attempts.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Unreachable { attempts: Vec<Attempt> },
    #[error("etcd at {endpoint} refused to let this client read {key} (HTTP {status}: {message}): wrong -username/-password, or no role of the user grants read access there")]
    Auth { endpoint: String, key: String, status: u16, message: String },
    #[error("etcd at {endpoint} answered HTTP {status} for {key}: {message}")]
    Refused { endpoint: String, key: String, status: u16, message: String },
    #[error("etcd at {endpoint} sent an answer that is not the v2 API's for {key}: {why} (is etcd started with --enable-v2?)")]
    Protocol { endpoint: String, key: String, why: String },
}

impl EtcdV2Error {
    /// Whether no member could be reached (as opposed to one answering "no").
    pub fn is_unreachable(&self) -> bool {
        matches!(self, EtcdV2Error::Unreachable { .. })
    }
}

/// One member's failure to answer.
#[derive(Debug, thiserror::Error)]
#[error("{endpoint}: {failure}")]
pub struct Attempt {
    pub endpoint: String,
    pub failure: Failure,
}

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    Connect(std::io::Error),
    #[error("TLS: {0}")]
    Tls(TlsError),
    #[error("{0}")]
    Http(HttpError),
    #[error("HTTP {0}")]
    Status(u16),
}

/// One member: where to connect, and how.
#[derive(Debug, Clone)]
struct Endpoint {
    /// As configured (for messages).
    url: String,
    /// `host:port`.
    addr: String,
    host: String,
    tls: bool,
}

impl Endpoint {
    fn parse(node: &str, tls_configured: bool) -> Result<Endpoint, EtcdV2Error> {
        let bad = |why| EtcdV2Error::BadNode { node: node.to_string(), why };
        let (tls, rest) = match node.split_once("://") {
            Some(("http", rest)) => (false, rest),
            Some(("https", rest)) => (true, rest),
            Some(_) => return Err(bad("the scheme must be http or https")),
            None => (tls_configured, node),
        };
        let addr = rest.trim_end_matches('/');
        if addr.is_empty() || addr.contains('/') {
            return Err(bad("expected [http://|https://]host:port"));
        }
        let host = match addr.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => host,
            _ => return Err(bad("expected host:port")),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        Ok(Endpoint { url: node.to_string(), addr: addr.to_string(), host, tls })
    }
}

/// A client of the etcd v2 keys API. Cheap to clone; clones share the preferred member.
#[derive(Clone)]
pub struct EtcdV2 {
    inner: Arc<Inner>,
}

struct Inner {
    endpoints: Vec<Endpoint>,
    /// `Basic …`, when credentials are configured.
    authorization: Option<String>,
    tls: Option<TlsClient>,
    /// The member that answered last: tried first.
    preferred: AtomicUsize,
}

/// An answer whose head has arrived, and the member it came from.
struct Answer {
    response: Response<Conn>,
    endpoint: String,
}

impl EtcdV2 {
    /// A client for `cfg`'s nodes; no I/O but reading the TLS files.
    pub fn new(cfg: EtcdV2Config) -> Result<EtcdV2, EtcdV2Error> {
        let tls_wanted = cfg.tls.is_some();
        let endpoints = cfg
            .nodes
            .iter()
            .map(|n| Endpoint::parse(n, tls_wanted))
            .collect::<Result<Vec<_>, _>>()?;
        if endpoints.is_empty() {
            return Err(EtcdV2Error::BadNode { node: String::new(), why: "no -node given" });
        }
        let tls = if endpoints.iter().any(|e| e.tls) {
            Some(TlsClient::new(&cfg.tls.unwrap_or_default())?)
        } else {
            None
        };
        let authorization = match (cfg.username, cfg.password) {
            (Some(user), Some(password)) => Some(format!(
                "Basic {}",
                confd_http::base64(format!("{user}:{password}").as_bytes())
            )),
            _ => None,
        };
        Ok(EtcdV2 {
            inner: Arc::new(Inner {
                endpoints,
                authorization,
                tls,
                preferred: AtomicUsize::new(0),
            }),
        })
    }

    /// The nodes, as configured.
    pub fn endpoints(&self) -> Vec<String> {
        self.inner.endpoints.iter().map(|e| e.url.clone()).collect()
    }

    /// Checks that a member answers with the v2 API (not, say, an etcd without
    /// `--enable-v2`). Credentials are not checked: etcd answers a wrong password exactly as
    /// it answers a user without read access to the key, so only a read can tell.
    pub fn probe(&self) -> Result<(), EtcdV2Error> {
        let mut answer = self.inner.get(&wire::keys_path("/"), HEADER_TIMEOUT)?;
        let status = answer.response.status;
        let body = answer.body("/")?;
        match self.inner.judge(&answer.endpoint, "/", status, &body) {
            Err(EtcdV2Error::Auth { .. }) | Ok(_) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every leaf under each of `keys` with its value (confd's `GetValues`).
    pub fn read(&self, keys: &[String]) -> Result<BTreeMap<String, String>, EtcdV2Error> {
        let mut kvs = BTreeMap::new();
        for key in keys {
            self.inner.read_key(key, &mut kvs)?;
        }
        Ok(kvs)
    }

    /// Watches `keys` (see the crate doc); reports to `tx`. At start, a member that refuses
    /// the credentials is an error; no member answering is not (the watch reports
    /// [`Notice::Down`] and retries).
    pub fn watch(&self, keys: Vec<String>, tx: Sender<Notice>) -> Result<WatchStop, EtcdV2Error> {
        watch::start(self.inner.clone(), keys, tx)
    }
}

impl Inner {
    /// Sends `GET path` to the members in turn, from the preferred one, until one answers
    /// with headers within `header_timeout` and without a server error.
    fn get(&self, path: &str, header_timeout: Duration) -> Result<Answer, EtcdV2Error> {
        let n = self.endpoints.len();
        let first = self.preferred.load(Ordering::Relaxed) % n;
        let mut attempts = Vec::new();
        for i in (0..n).map(|i| (first + i) % n) {
            let endpoint = &self.endpoints[i];
            match self.exchange(endpoint, path, header_timeout) {
                Ok(response) if response.status >= 500 => attempts.push(Attempt {
                    endpoint: endpoint.url.clone(),
                    failure: Failure::Status(response.status),
                }),
                Ok(response) => {
                    self.preferred.store(i, Ordering::Relaxed);
                    return Ok(Answer { response, endpoint: endpoint.url.clone() });
                }
                Err(failure) => attempts.push(Attempt { endpoint: endpoint.url.clone(), failure }),
            }
        }
        Err(EtcdV2Error::Unreachable { attempts })
    }

    fn exchange(
        &self,
        endpoint: &Endpoint,
        path: &str,
        header_timeout: Duration,
    ) -> Result<Response<Conn>, Failure> {
        let conn = match (&self.tls, endpoint.tls) {
            (Some(tls), true) => Conn::tls(&endpoint.addr, &endpoint.host, CONNECT_TIMEOUT, tls)
                .map_err(|e| match e {
                    TlsError::Connect(io) => Failure::Connect(io),
                    other => Failure::Tls(other),
                })?,
            _ => Conn::tcp(&endpoint.addr, CONNECT_TIMEOUT).map_err(Failure::Connect)?,
        };
        conn.set_timeouts(Some(header_timeout)).map_err(Failure::Connect)?;
        let auth;
        let headers: &[(&str, &str)] = match &self.authorization {
            Some(value) => {
                auth = [("Authorization", value.as_str())];
                &auth
            }
            None => &[],
        };
        let request = Request {
            method: "GET",
            path,
            host: &endpoint.addr,
            user_agent: concat!("confd-rs/", env!("CARGO_PKG_VERSION")),
            headers,
            body: None,
        };
        conn.exchange(&request).map_err(Failure::Http)
    }

    /// What an answer with `status` and `body` means: `Some(node)`, `None` for a key that
    /// does not exist, or the error.
    fn judge(
        &self,
        endpoint: &str,
        key: &str,
        status: u16,
        body: &[u8],
    ) -> Result<Option<NodeAnswer>, EtcdV2Error> {
        let protocol = |why: String| EtcdV2Error::Protocol {
            endpoint: endpoint.to_string(),
            key: key.to_string(),
            why,
        };
        match status {
            200 => serde_json::from_slice(body).map(Some).map_err(|e| protocol(e.to_string())),
            401 | 403 => Err(EtcdV2Error::Auth {
                endpoint: endpoint.to_string(),
                key: key.to_string(),
                status,
                message: refusal(body),
            }),
            _ => {
                let error = ErrorBody::parse(body);
                if error.code == Some(KEY_NOT_FOUND) {
                    return Ok(None);
                }
                if error.code.is_none() {
                    return Err(protocol(format!("HTTP {status}")));
                }
                Err(EtcdV2Error::Refused {
                    endpoint: endpoint.to_string(),
                    key: key.to_string(),
                    status,
                    message: error.message,
                })
            }
        }
    }

    /// The leaves under `key`, in one recursive read; a tree nested too deeply for one JSON
    /// answer is read a level at a time.
    fn read_key(&self, key: &str, kvs: &mut BTreeMap<String, String>) -> Result<(), EtcdV2Error> {
        let path = format!("{}?recursive=true&sorted=true&quorum=true", wire::keys_path(key));
        match self.get_node(key, &path) {
            Ok(Some(answer)) => {
                wire::leaves(answer.node, kvs);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(EtcdV2Error::Protocol { why, .. }) if why.contains("recursion limit") => {
                self.read_levels(key, kvs)
            }
            Err(e) => Err(e),
        }
    }

    fn get_node(&self, key: &str, path: &str) -> Result<Option<NodeAnswer>, EtcdV2Error> {
        let mut answer = self.get(path, HEADER_TIMEOUT)?;
        let status = answer.response.status;
        let body = answer.body(key)?;
        self.judge(&answer.endpoint, key, status, &body)
    }

    /// Reads `key`'s tree one directory at a time (no nesting limit).
    fn read_levels(
        &self,
        key: &str,
        kvs: &mut BTreeMap<String, String>,
    ) -> Result<(), EtcdV2Error> {
        let mut dirs = vec![key.to_string()];
        while let Some(dir) = dirs.pop() {
            let path = format!("{}?sorted=true&quorum=true", wire::keys_path(&dir));
            let Some(answer) = self.get_node(&dir, &path)? else { continue };
            if !answer.node.dir {
                wire::leaves(answer.node, kvs);
                continue;
            }
            for child in answer.node.nodes {
                if child.dir {
                    dirs.push(child.key);
                } else {
                    wire::leaves(child, kvs);
                }
            }
        }
        Ok(())
    }
}

/// etcd's words for a refusal: its message and cause (`The request requires user
/// authentication (Insufficient credentials)`).
fn refusal(body: &[u8]) -> String {
    let error = ErrorBody::parse(body);
    match (error.message.is_empty(), error.cause.is_empty()) {
        (true, _) => "no reason given".into(),
        (false, true) => error.message,
        (false, false) => format!("{} ({})", error.message, error.cause),
    }
}

impl Answer {
    /// The whole body, within [`BODY_TIMEOUT`].
    fn body(&mut self, key: &str) -> Result<Vec<u8>, EtcdV2Error> {
        let _ = self.response.get_ref().set_timeouts(Some(BODY_TIMEOUT));
        self.response.body().map_err(|e| EtcdV2Error::Unreachable {
            attempts: vec![Attempt {
                endpoint: format!("{} (reading {key})", self.endpoint),
                failure: Failure::Http(e),
            }],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_take_a_scheme_or_follow_the_tls_setting() {
        let e = Endpoint::parse("http://127.0.0.1:2379", true).unwrap();
        assert_eq!(
            (e.addr.as_str(), e.host.as_str(), e.tls),
            ("127.0.0.1:2379", "127.0.0.1", false)
        );
        assert!(Endpoint::parse("https://etcd.example:2379/", false).unwrap().tls);
        assert!(Endpoint::parse("127.0.0.1:2379", true).unwrap().tls);
        assert!(!Endpoint::parse("127.0.0.1:2379", false).unwrap().tls);
        assert_eq!(Endpoint::parse("[::1]:2379", false).unwrap().host, "::1");
        for bad in ["ftp://x:1", "http://", "127.0.0.1", "http://h:99999", "http://h:1/path"] {
            let err = Endpoint::parse(bad, false).unwrap_err().to_string();
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn credentials_become_one_basic_header_and_are_not_shown() {
        let cfg = EtcdV2Config {
            nodes: vec!["127.0.0.1:1".into()],
            username: Some("confd".into()),
            password: Some("s3cret".into()),
            tls: None,
        };
        let client = EtcdV2::new(cfg).unwrap();
        assert_eq!(client.inner.authorization.as_deref(), Some("Basic Y29uZmQ6czNjcmV0"));
        let err = client.read(&["/x".into()]).unwrap_err();
        assert!(err.is_unreachable());
        assert!(!err.to_string().contains("s3cret"), "{err}");
        assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
    }
}

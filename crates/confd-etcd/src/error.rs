//! What can go wrong talking to etcd, said so that an operator knows what to check.

use std::fmt;
use std::time::Duration;

use crate::rpc::RpcError;

/// An error from the etcd backend. `Display` says what happened, where, and what to check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EtcdError {
    /// No endpoint answered: each one refused the connection, failed or timed out.
    #[error("cannot reach etcd: {}; check that etcd is running and that the endpoints (-node) are right", Attempts(.attempts))]
    Unreachable { attempts: Vec<Attempt> },

    /// Every endpoint that was tried accepted the connection but did not answer in time.
    #[error("etcd did not answer within {}: {}; check that the members are running, not overloaded, and have a leader", fmt_duration(*.after), Attempts(.attempts))]
    Timeout { after: Duration, attempts: Vec<Attempt> },

    /// The user name or password was rejected.
    #[error("authentication failed: invalid user or password (etcd at {endpoint})")]
    AuthFailed { endpoint: String },

    /// etcd has authentication enabled and no user name was configured.
    #[error("etcd at {endpoint} requires authentication but no user name is configured; set a user name and password (confd: -basic-auth -username -password; confd-register: --username --password)")]
    AuthRequired { endpoint: String },

    /// The user may not read a prefix.
    #[error("permission denied: {who} may not read {prefix} (etcd at {endpoint}); grant read on it, e.g. `etcdctl role grant-permission ROLE read --prefix=true {prefix}`", who = who(.user))]
    PermissionDenied { prefix: String, user: Option<String>, endpoint: String },

    /// The user may not write (put or delete) a key.
    #[error("permission denied: {who} may not write {key} (etcd at {endpoint}); grant write on its prefix, e.g. `etcdctl role grant-permission --prefix=true ROLE write PREFIX`", who = who(.user))]
    WriteDenied { key: String, user: Option<String>, endpoint: String },

    /// The lease does not exist (any more): it expired without a keep-alive within its TTL, or
    /// was revoked. Keys written under it are gone with it.
    #[error("lease {lease:x} not found: it expired or was revoked")]
    LeaseNotFound { lease: i64 },

    /// TLS could not be set up (unreadable or invalid files) or the handshake failed.
    #[error("TLS with etcd{at} failed: {detail}; check the CA (-client-ca-keys), the client certificate and key (-client-cert, -client-key) and that the endpoints use https://", at = at(.endpoint))]
    Tls { endpoint: Option<String>, detail: String },

    /// The configuration cannot work (no endpoints, a malformed URL, a certificate without key).
    #[error("invalid etcd configuration: {0}")]
    Config(String),

    /// etcd answered with an error this layer has no better words for.
    #[error("etcd at {endpoint} refused the request ({code}): {message}")]
    Etcd { endpoint: String, code: String, message: String },
}

/// One failed attempt: which endpoint, and what happened there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub endpoint: String,
    pub error: String,
}

struct Attempts<'a>(&'a [Attempt]);

impl fmt::Display for Attempts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One entry per endpoint, its last error: retries of the same endpoint add nothing.
        let mut seen: Vec<&Attempt> = Vec::new();
        for a in self.0.iter().rev() {
            if !seen.iter().any(|s| s.endpoint == a.endpoint) {
                seen.push(a);
            }
        }
        seen.reverse();
        if seen.is_empty() {
            return f.write_str("no endpoint was tried");
        }
        f.write_str("tried ")?;
        for (i, a) in seen.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{} ({})", a.endpoint, a.error)?;
        }
        Ok(())
    }
}

fn who(user: &Option<String>) -> String {
    match user {
        Some(u) => format!("user {u:?}"),
        // etcd may still know it: by the common name of its TLS client certificate.
        None => "the client (no user name given; with a TLS client certificate, the user is its common name)".to_string(),
    }
}

fn at(endpoint: &Option<String>) -> String {
    match endpoint {
        Some(e) => format!(" at {e}"),
        None => String::new(),
    }
}

pub(crate) fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

impl EtcdError {
    /// Whether retrying later could succeed without a configuration change.
    pub fn is_transient(&self) -> bool {
        matches!(self, EtcdError::Unreachable { .. } | EtcdError::Timeout { .. })
    }
}

/// How the connection layer treats one failed call.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Try another endpoint (or the same one later): connection refused, timeout, member
    /// without leader, stream reset. `tls` marks handshake failures, `timeout` deadline expiry.
    Transient { message: String, tls: bool, timeout: bool },
    /// The revision asked for has been compacted: re-read from the current revision.
    Compacted,
    /// Permission denied; the caller knows which prefix.
    PermissionDenied,
    /// The auth token expired (etcd says "invalid auth token"; a watch stream reports it as
    /// the stream's error): authenticate again, then retry.
    TokenExpired,
    /// Anything else is final for this call.
    Fatal(EtcdError),
}

/// Sorts a failed call into what the layer does with it.
pub(crate) fn classify(err: RpcError, endpoint: &str) -> Failure {
    match err {
        RpcError::Status(status) if status.message().contains("invalid auth token") => {
            Failure::TokenExpired
        }
        RpcError::Status(status) => {
            let message = status_detail(&status);
            classify_status(status.code(), &message, endpoint)
        }
        RpcError::Transport(e) if is_invalid_uri(&e) => {
            Failure::Fatal(EtcdError::Config(format!("endpoint {endpoint}: {}", chain(&e))))
        }
        RpcError::Transport(e) => {
            let message = chain(&e);
            Failure::Transient {
                tls: looks_like_tls_on(&message, endpoint),
                timeout: false,
                message,
            }
        }
        RpcError::Stream(m) => Failure::Transient { message: m, tls: false, timeout: false },
    }
}

/// Whether the endpoint itself could not be turned into a URI (a configuration error).
fn is_invalid_uri(e: &tonic::transport::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<tonic::codegen::http::uri::InvalidUri>() {
            return true;
        }
        source = err.source();
    }
    false
}

pub(crate) fn classify_status(code: tonic::Code, message: &str, endpoint: &str) -> Failure {
    use tonic::Code;
    match code {
        Code::Unavailable | Code::Cancelled | Code::Unknown | Code::DeadlineExceeded => {
            let timeout = code == Code::DeadlineExceeded
                || (code == Code::Cancelled && message.contains("Timeout expired"));
            let tls = looks_like_tls_on(message, endpoint);
            let message = if timeout {
                "timed out".to_string()
            } else if message.is_empty() {
                format!("{code:?}")
            } else {
                without_noise(message)
            };
            Failure::Transient { tls, timeout, message }
        }
        Code::InvalidArgument if message.contains("authentication failed") => {
            Failure::Fatal(EtcdError::AuthFailed { endpoint: endpoint.to_string() })
        }
        Code::InvalidArgument if message.contains("user name is empty") => {
            Failure::Fatal(EtcdError::AuthRequired { endpoint: endpoint.to_string() })
        }
        Code::PermissionDenied => Failure::PermissionDenied,
        Code::OutOfRange if message.contains("compacted") => Failure::Compacted,
        // A linearizable read pinned to a revision the member has not applied yet, or an
        // expired token the client could not refresh: another attempt may well succeed.
        Code::OutOfRange if message.contains("future revision") => {
            Failure::Transient { message: message.to_string(), tls: false, timeout: false }
        }
        Code::Unauthenticated => {
            Failure::Transient { message: message.to_string(), tls: false, timeout: false }
        }
        code => Failure::Fatal(EtcdError::Etcd {
            endpoint: endpoint.to_string(),
            code: format!("{code:?}"),
            message: message.to_string(),
        }),
    }
}

/// Whether a failure on `endpoint` is most likely TLS. A TLS server that rejects the client's
/// certificate (or its absence) may just close the connection — with TLS 1.3 after the client
/// thinks the handshake is done, so the first request sees "connection closed": on https, a
/// connection that fails while being set up (rather than a stream that breaks later) is most
/// likely TLS.
fn looks_like_tls_on(message: &str, endpoint: &str) -> bool {
    looks_like_tls(message)
        || (endpoint.starts_with("https://")
            && (message.contains("connection error") || message.contains("connection closed"))
            && !message.contains("h2 protocol error"))
}

fn looks_like_tls(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    ["certificate", "tls", "handshake", "unknownissuer", "ssl", "fatal alert"]
        .iter()
        .any(|w| m.contains(w))
}

/// A status's message and what its sources add (tonic says "transport error"; the TLS alert
/// or the refused connection is further down).
fn status_detail(status: &tonic::Status) -> String {
    let mut s = status.message().to_string();
    let mut src = std::error::Error::source(status);
    while let Some(inner) = src {
        let t = inner.to_string();
        if !t.is_empty() && !s.contains(&t) {
            if !s.is_empty() {
                s.push_str(": ");
            }
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
}

/// Drops tonic's generic "transport error" from a chain of messages when something more
/// specific is said: `tcp connect error: transport error: Connection refused` →
/// `tcp connect error: Connection refused`.
fn without_noise(message: &str) -> String {
    let parts: Vec<&str> = message.split(": ").filter(|p| *p != "transport error").collect();
    if parts.is_empty() {
        message.to_string()
    } else {
        parts.join(": ")
    }
}

/// An error and its sources, as one line (tonic's transport errors say little on top).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_endpoint_and_what_to_check() {
        let e = EtcdError::AuthFailed { endpoint: "http://127.0.0.1:2379".into() };
        assert_eq!(
            e.to_string(),
            "authentication failed: invalid user or password (etcd at http://127.0.0.1:2379)"
        );
        let e = EtcdError::Unreachable {
            attempts: vec![
                Attempt { endpoint: "a".into(), error: "x".into() },
                Attempt { endpoint: "b".into(), error: "y".into() },
                Attempt { endpoint: "a".into(), error: "z".into() },
            ],
        };
        assert_eq!(
            e.to_string(),
            "cannot reach etcd: tried b (y), a (z); check that etcd is running and that the endpoints (-node) are right"
        );
        let e = EtcdError::PermissionDenied {
            prefix: "/secret".into(),
            user: Some("confd".into()),
            endpoint: "e".into(),
        };
        assert!(e
            .to_string()
            .starts_with("permission denied: user \"confd\" may not read /secret (etcd at e)"));
        assert_eq!(fmt_duration(Duration::from_millis(3000)), "3s");
        assert_eq!(
            without_noise("tcp connect error: transport error: Connection refused (os error 111)"),
            "tcp connect error: Connection refused (os error 111)"
        );
        assert_eq!(without_noise("transport error"), "transport error");
        assert_eq!(fmt_duration(Duration::from_millis(2500)), "2.5s");
    }

    #[test]
    fn registration_errors_name_the_key_and_the_lease() {
        let e = EtcdError::WriteDenied {
            key: "/svc/upstream/web/i1".into(),
            user: Some("reg".into()),
            endpoint: "http://127.0.0.1:2379".into(),
        };
        assert!(e.to_string().starts_with(
            "permission denied: user \"reg\" may not write /svc/upstream/web/i1 (etcd at http://127.0.0.1:2379)"
        ));
        assert!(!e.is_transient());
        let e = EtcdError::LeaseNotFound { lease: 0x694d_7c8f };
        assert_eq!(e.to_string(), "lease 694d7c8f not found: it expired or was revoked");
    }

    #[test]
    fn a_connection_closed_while_setting_up_https_is_a_tls_failure() {
        let https = "https://127.0.0.1:2379";
        for message in
            ["operation was canceled: connection closed", "transport error: connection error"]
        {
            let Failure::Transient { tls, .. } =
                classify_status(tonic::Code::Cancelled, message, https)
            else {
                panic!("{message}")
            };
            assert!(tls, "{message}");
        }
        let Failure::Transient { tls, .. } = classify_status(
            tonic::Code::Unavailable,
            "operation was canceled: connection closed",
            "http://127.0.0.1:2379",
        ) else {
            panic!()
        };
        assert!(!tls, "plain http is never TLS");
        let Failure::Transient { tls, .. } = classify_status(
            tonic::Code::Unavailable,
            "h2 protocol error: connection closed",
            https,
        ) else {
            panic!()
        };
        assert!(!tls, "a stream that broke later");
    }
}

#[cfg(test)]
mod rpc_error_tests {
    use super::*;

    /// An endpoint that is no URI is a configuration error, not something to retry.
    #[test]
    fn an_endpoint_that_is_no_uri_is_fatal() {
        let e = tonic::transport::Endpoint::from_shared("http://bad host:2379".to_string())
            .expect_err("a space is no URI");
        match classify(RpcError::Transport(e), "http://bad host:2379") {
            Failure::Fatal(EtcdError::Config(m)) => assert!(m.contains("bad host"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}

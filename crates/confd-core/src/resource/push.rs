//! `push`: where a push resource sends its membership.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The default `push_timeout`: the push and its confirmation by every worker.
pub const DEFAULT_PUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// A live-membership endpoint (docs/live-membership.md): the path on it is always
/// `/membership`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PushTarget {
    /// `unix:/abs/path.sock`: a unix socket (the recommended form: its directory's
    /// permissions decide who may push).
    Unix(PathBuf),
    /// `http://IP:PORT`: a TCP endpoint, e.g. on the loopback.
    Tcp(String),
}

/// Why a `push` value is not an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushTargetError {
    #[error("the socket path of {0:?} must be absolute: unix:/path/to.sock")]
    RelativeSocket(String),
    #[error("{value:?} is not http://IP:PORT: {why}")]
    Address { value: String, why: confd_values::Invalid },
    #[error("{0:?} has a path; the endpoint's path is always /membership: http://IP:PORT")]
    Path(String),
    #[error("{0:?} is neither unix:/path/to.sock nor http://IP:PORT")]
    Scheme(String),
}

impl PushTarget {
    /// Parses `unix:/path` or `http://IP:PORT`.
    pub fn parse(value: &str) -> Result<PushTarget, PushTargetError> {
        if let Some(path) = value.strip_prefix("unix:") {
            if !path.starts_with('/') {
                return Err(PushTargetError::RelativeSocket(value.to_string()));
            }
            return Ok(PushTarget::Unix(PathBuf::from(path)));
        }
        if let Some(addr) = value.strip_prefix("http://") {
            let addr = addr.strip_suffix('/').unwrap_or(addr);
            if addr.contains('/') {
                return Err(PushTargetError::Path(value.to_string()));
            }
            confd_values::ip_address(addr)
                .map_err(|why| PushTargetError::Address { value: value.to_string(), why })?;
            return Ok(PushTarget::Tcp(addr.to_string()));
        }
        Err(PushTargetError::Scheme(value.to_string()))
    }
}

impl fmt::Display for PushTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushTarget::Unix(path) => write!(f, "unix:{}", path.display()),
            PushTarget::Tcp(addr) => write!(f, "http://{addr}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        assert_eq!(
            PushTarget::parse("unix:/srv/nginx/run/push.sock"),
            Ok(PushTarget::Unix("/srv/nginx/run/push.sock".into()))
        );
        assert_eq!(
            PushTarget::parse("http://127.0.0.1:8081/"),
            Ok(PushTarget::Tcp("127.0.0.1:8081".into()))
        );
        assert_eq!(PushTarget::parse("http://[::1]:81").unwrap().to_string(), "http://[::1]:81");
        for bad in ["unix:run/push.sock", "http://localhost:80", "http://1.2.3.4:80/x", "tcp://x"] {
            assert!(PushTarget::parse(bad).is_err(), "{bad}");
        }
    }
}

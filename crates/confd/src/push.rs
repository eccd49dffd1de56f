//! Pushing a push resource's membership to its live endpoint, and confirming that every worker
//! of the server has picked it up (docs/live-membership.md describes the protocol).
//!
//! A push is: `GET /membership` for the version the server has, `POST /membership` of the
//! whole snapshot with a higher version (the store revision it was read at, or one more than
//! the server's when the store's revision is lower, e.g. after a restore), then `GET` again
//! until every worker reports that version or the push's time runs out.

use std::io;
use std::time::{Duration, Instant};

use confd_apply::Cancel;
use confd_core::membership::Membership;
use confd_core::resource::PushTarget;
use confd_http::{Conn, HttpError, Request};
use serde::Deserialize;

/// The path of the endpoint on its server.
pub const ENDPOINT_PATH: &str = "/membership";
/// How often the workers' acknowledgements are polled.
const POLL: Duration = Duration::from_millis(20);
/// The longest single request when the push has no time limit.
const REQUEST_LIMIT: Duration = Duration::from_secs(30);

/// A confirmed push.
#[derive(Debug)]
pub struct Pushed {
    pub version: u64,
    /// How many workers confirmed it.
    pub workers: usize,
}

/// Why a push failed. The previous membership stays in force on the server.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("cannot connect to {target}: {source}")]
    Connect { target: String, source: io::Error },
    #[error("{target}: {source}")]
    Http { target: String, source: HttpError },
    /// The server refused the membership itself (invalid, too large, no room).
    #[error("{target} rejected the membership (HTTP {status}): {reason}")]
    Rejected { target: String, status: u16, reason: String },
    /// The server could not take it now (another push, a stale version, an error).
    #[error("{target} did not take the membership (HTTP {status}): {reason}")]
    Refused { target: String, status: u16, reason: String },
    #[error("{target}: the status is not what the protocol says: {why}")]
    BadStatus { target: String, why: String },
    #[error(
        "{target}: {lagging} of {workers} workers did not confirm version {version} within \
         {timeout:?} (push_timeout)"
    )]
    Unconfirmed { target: String, version: u64, lagging: usize, workers: usize, timeout: Duration },
    #[error("{target}: stopped before the push was confirmed (confd is stopping)")]
    Cancelled { target: String },
}

/// What `GET /membership` says.
#[derive(Debug, Deserialize)]
struct Status {
    version: u64,
    /// One entry per worker; `None` for one that has not reported yet.
    workers: Vec<Option<Ack>>,
}

#[derive(Debug, Deserialize)]
struct Ack {
    version: u64,
}

/// Pushes `membership`, read at store `revision` (0: unknown), to `target` and waits until
/// every worker has it, all within `timeout` (zero: no limit).
pub fn push(
    target: &PushTarget,
    membership: &Membership,
    revision: u64,
    timeout: Duration,
    cancel: &Cancel,
) -> Result<Pushed, PushError> {
    let deadline = (!timeout.is_zero()).then(|| Instant::now().checked_add(timeout)).flatten();
    let endpoint = Endpoint { target, deadline };
    let current = endpoint.status()?.version;
    let version = current.saturating_add(1).max(revision);
    let body = membership.push_body(version, revision);
    let (status, answer) = endpoint.exchange("POST", Some(body.as_bytes()))?;
    if status != 200 {
        let reason = error_reason(&answer);
        let target = target.to_string();
        return Err(match status {
            400 | 413 | 507 => PushError::Rejected { target, status, reason },
            _ => PushError::Refused { target, status, reason },
        });
    }
    loop {
        let status = endpoint.status()?;
        let lagging = status
            .workers
            .iter()
            .filter(|w| w.as_ref().is_none_or(|a| a.version < version))
            .count();
        if lagging == 0 && !status.workers.is_empty() {
            return Ok(Pushed { version, workers: status.workers.len() });
        }
        if cancel.is_cancelled() {
            return Err(PushError::Cancelled { target: target.to_string() });
        }
        if deadline.is_some_and(|d| Instant::now() + POLL >= d) {
            return Err(PushError::Unconfirmed {
                target: target.to_string(),
                version,
                lagging,
                workers: status.workers.len(),
                timeout,
            });
        }
        std::thread::sleep(POLL);
    }
}

struct Endpoint<'a> {
    target: &'a PushTarget,
    deadline: Option<Instant>,
}

impl Endpoint<'_> {
    fn status(&self) -> Result<Status, PushError> {
        let (code, body) = self.exchange("GET", None)?;
        let bad = |why: String| PushError::BadStatus { target: self.target.to_string(), why };
        if code != 200 {
            return Err(bad(format!("HTTP {code}: {}", error_reason(&body))));
        }
        serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))
    }

    /// One request; the status and body of its answer.
    fn exchange(&self, method: &str, body: Option<&[u8]>) -> Result<(u16, Vec<u8>), PushError> {
        let target = || self.target.to_string();
        let limit = match self.deadline {
            Some(d) => d.saturating_duration_since(Instant::now()).max(Duration::from_millis(1)),
            None => REQUEST_LIMIT,
        };
        let conn = match self.target {
            PushTarget::Unix(path) => Conn::unix(path),
            PushTarget::Tcp(addr) => Conn::tcp(addr, limit),
        }
        .map_err(|source| PushError::Connect { target: target(), source })?;
        let http = |source: HttpError| PushError::Http { target: target(), source };
        conn.set_timeouts(Some(limit)).map_err(|e| http(e.into()))?;
        let request = Request {
            method,
            path: ENDPOINT_PATH,
            host: "localhost",
            user_agent: concat!("confd-rs/", env!("CARGO_PKG_VERSION")),
            body,
        };
        let mut answer = conn.exchange(&request).map_err(http)?;
        let body = answer.body().map_err(http)?;
        Ok((answer.status, body))
    }
}

/// The `error` of a JSON answer, else its text (cut short).
fn error_reason(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Error {
        error: String,
    }
    match serde_json::from_slice::<Error>(body) {
        Ok(e) => e.error,
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            match text.char_indices().nth(200) {
                Some((cut, _)) => format!("{}…", &text[..cut]),
                None => text.to_string(),
            }
        }
    }
}

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
            headers: &[],
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::os::unix::net::UnixListener;
    use std::sync::mpsc;

    /// An endpoint on a unix socket that answers each request with the next of `answers`
    /// (status, body) and reports each request's method and body.
    fn endpoint(
        answers: Vec<(u16, String)>,
    ) -> (tempfile::TempDir, PushTarget, mpsc::Receiver<(String, String)>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("push.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for (status, body) in answers {
                let Ok((mut s, _)) = listener.accept() else { return };
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                let method = line.split(' ').next().unwrap().to_string();
                let mut length = 0;
                loop {
                    let mut h = String::new();
                    r.read_line(&mut h).unwrap();
                    if h == "\r\n" {
                        break;
                    }
                    if let Some(v) = h.strip_prefix("Content-Length: ") {
                        length = v.trim().parse().unwrap();
                    }
                }
                let mut request = vec![0; length];
                r.read_exact(&mut request).unwrap();
                let _ = tx.send((method, String::from_utf8(request).unwrap()));
                let answer =
                    format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                s.write_all(answer.as_bytes()).unwrap();
            }
        });
        (dir, PushTarget::Unix(path), rx)
    }

    fn status(version: u64, acks: &[Option<u64>]) -> (u16, String) {
        let workers: Vec<String> = acks
            .iter()
            .map(|a| match a {
                Some(v) => format!("{{\"id\":0,\"pid\":1,\"version\":{v}}}"),
                None => "null".into(),
            })
            .collect();
        (
            200,
            format!("{{\"version\":{version},\"revision\":0,\"workers\":[{}]}}", workers.join(",")),
        )
    }

    fn membership() -> Membership {
        Membership::parse("web 10.0.0.1:80").unwrap()
    }

    #[test]
    fn pushes_above_the_servers_version_and_waits_for_every_worker() {
        let answers = vec![
            status(41, &[Some(41), Some(41)]),
            (200, "{}".into()),
            status(42, &[Some(42), None]),
            status(42, &[Some(42), Some(41)]),
            status(42, &[Some(42), Some(42)]),
        ];
        let (_dir, target, requests) = endpoint(answers);
        let pushed = push(&target, &membership(), 7, Duration::from_secs(5), &Cancel::new());
        let pushed = pushed.unwrap();
        assert_eq!((pushed.version, pushed.workers), (42, 2));
        let requests: Vec<(String, String)> = requests.try_iter().collect();
        assert_eq!(requests.len(), 5);
        assert_eq!(requests[1].0, "POST");
        assert_eq!(requests[1].1, membership().push_body(42, 7));
    }

    #[test]
    fn the_store_revision_is_the_version_when_it_is_higher() {
        let answers = vec![status(3, &[Some(3)]), (200, "{}".into()), status(900, &[Some(900)])];
        let (_dir, target, _) = endpoint(answers);
        let pushed = push(&target, &membership(), 900, Duration::ZERO, &Cancel::new()).unwrap();
        assert_eq!(pushed.version, 900);
    }

    #[test]
    fn refusals_keep_the_servers_reason() {
        let cases = [
            (400, "{\"error\":\"services.web[0]: bad host\"}", "rejected", "bad host"),
            (409, "{\"error\":\"stale version\",\"version\":50}", "did not take", "stale version"),
            (500, "<html>oops</html>", "did not take", "<html>oops</html>"),
        ];
        for (code, body, kind, reason) in cases {
            let (_dir, target, _) = endpoint(vec![status(1, &[Some(1)]), (code, body.into())]);
            let e = push(&target, &membership(), 0, Duration::from_secs(5), &Cancel::new());
            let e = e.unwrap_err().to_string();
            assert!(e.contains(kind) && e.contains(reason), "{code}: {e}");
            assert!(e.contains(&format!("HTTP {code}")), "{e}");
        }
    }

    #[test]
    fn a_worker_that_never_confirms_is_a_timeout() {
        let mut answers = vec![status(1, &[Some(1)]), (200, "{}".into())];
        answers.extend((0..200).map(|_| status(2, &[Some(2), Some(1)])));
        let (_dir, target, _) = endpoint(answers);
        let e = push(&target, &membership(), 0, Duration::from_millis(300), &Cancel::new());
        let e = e.unwrap_err();
        assert!(matches!(e, PushError::Unconfirmed { version: 2, lagging: 1, workers: 2, .. }));
    }

    #[test]
    fn no_server_and_a_broken_status_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let nobody = PushTarget::Unix(dir.path().join("none.sock"));
        let e = push(&nobody, &membership(), 0, Duration::from_secs(1), &Cancel::new());
        assert!(matches!(e, Err(PushError::Connect { .. })));
        let (_dir, target, _) = endpoint(vec![(200, "{\"version\":\"x\"}".into())]);
        let e = push(&target, &membership(), 0, Duration::from_secs(1), &Cancel::new());
        assert!(matches!(e, Err(PushError::BadStatus { .. })), "{e:?}");
    }
}

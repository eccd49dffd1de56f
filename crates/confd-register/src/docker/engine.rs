//! A small client of the Docker Engine API over its unix socket: HTTP/1.1 requests with
//! `Connection: close`, bodies by length, chunked or to the end, and the `/events` stream
//! (newline-separated JSON objects in chunks). Paths carry no API version, so the engine
//! answers in its own; the fields read here have been stable since API 1.24.

use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use confd_http::{Conn, HttpError, Progress, Request, Response, MAX_LINE};
use serde::Deserialize;

#[derive(Debug)]
pub enum EngineError {
    /// The socket could not be connected to.
    Unreachable { socket: PathBuf, source: io::Error },
    /// The connection failed or ended early.
    Io { what: String, source: io::Error },
    /// The engine answered with an error status.
    Status { what: String, status: u16, message: String },
    /// The answer is not what the API promises.
    Protocol { what: String, why: String },
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Unreachable { socket, source } => {
                write!(f, "cannot connect to the Docker engine at {}: {source}", socket.display())
            }
            EngineError::Io { what, source } => write!(f, "Docker {what}: {source}"),
            EngineError::Status { what, status, message } => {
                write!(f, "Docker {what}: HTTP {status}: {message}")
            }
            EngineError::Protocol { what, why } => write!(f, "Docker {what}: {why}"),
        }
    }
}

/// One event of `/events`, the fields used here.
#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    #[serde(rename = "Type", default)]
    pub kind: String,
    #[serde(rename = "Action", default)]
    pub action: String,
    #[serde(rename = "Actor", default)]
    pub actor: Actor,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Actor {
    #[serde(rename = "ID", default)]
    pub id: String,
    /// A container's labels and name; for a network event, `container` (its id).
    #[serde(rename = "Attributes", default)]
    pub attributes: std::collections::BTreeMap<String, String>,
}

/// What the event stream has next.
#[derive(Debug)]
pub enum Next {
    Event(Event),
    /// Nothing for as long as the stream's idle time ([`Engine::events`]).
    Idle,
    /// The engine ended the stream (it is shutting down).
    End,
}

#[derive(Debug, Clone)]
pub struct Engine {
    socket: PathBuf,
    timeout: Duration,
}

impl Engine {
    pub fn new(socket: &Path) -> Engine {
        Engine { socket: socket.to_path_buf(), timeout: Duration::from_secs(30) }
    }

    /// `GET path` and its JSON body; `None` when the engine says 404 (no such container).
    pub fn get<T: for<'de> Deserialize<'de>>(
        &self,
        what: &str,
        path: &str,
    ) -> Result<Option<T>, EngineError> {
        let mut conn = self.request(what, path, Some(self.timeout))?;
        let body = conn.body().map_err(http(what))?;
        if conn.status == 404 {
            return Ok(None);
        }
        if conn.status != 200 {
            return Err(status_error(what, conn.status, &body));
        }
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| EngineError::Protocol { what: what.into(), why: format!("bad JSON: {e}") })
    }

    /// Opens the event stream of `path` (`/events?filters=…`). The answer's head must come
    /// within the request time limit; then [`EventStream::next`] says [`Next::Idle`] after
    /// `idle` without an event.
    pub fn events(&self, path: &str, idle: Duration) -> Result<EventStream<Conn>, EngineError> {
        let what = "event stream";
        let mut conn = self.request(what, path, Some(self.timeout))?;
        if conn.status != 200 {
            let body = conn.body().map_err(http(what))?;
            return Err(status_error(what, conn.status, &body));
        }
        conn.get_ref()
            .set_read_timeout(Some(idle))
            .map_err(|source| EngineError::Io { what: what.into(), source })?;
        Ok(EventStream { conn, buf: Vec::new() })
    }

    fn request(
        &self,
        what: &str,
        path: &str,
        timeout: Option<Duration>,
    ) -> Result<Response<Conn>, EngineError> {
        let conn = Conn::unix(&self.socket)
            .map_err(|source| EngineError::Unreachable { socket: self.socket.clone(), source })?;
        conn.set_timeouts(timeout)
            .map_err(|source| EngineError::Io { what: what.into(), source })?;
        let request = Request {
            method: "GET",
            path,
            host: "docker",
            user_agent: concat!("confd-register/", env!("CARGO_PKG_VERSION")),
            headers: &[],
            body: None,
        };
        conn.exchange(&request).map_err(http(what))
    }
}

fn status_error(what: &str, status: u16, body: &[u8]) -> EngineError {
    #[derive(Deserialize)]
    struct Message {
        message: String,
    }
    let message = serde_json::from_slice::<Message>(body)
        .map(|m| m.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).trim().to_string());
    EngineError::Status { what: what.into(), status, message }
}

/// The `/events` stream: one [`Event`] at a time, as the engine sends them.
pub struct EventStream<R> {
    conn: Response<R>,
    buf: Vec<u8>,
}

impl<R: Read> EventStream<R> {
    /// The next event, or that there was none for a while, or that the stream ended.
    pub fn next_event(&mut self) -> Result<Next, EngineError> {
        const WHAT: &str = "event stream";
        loop {
            if let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=nl).collect();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return serde_json::from_slice(&line)
                    .map(Next::Event)
                    .map_err(|e| protocol(WHAT, format!("bad event JSON: {e}")));
            }
            if self.buf.len() > MAX_LINE {
                return Err(protocol(WHAT, "event too large".into()));
            }
            match self.conn.read_some(&mut self.buf).map_err(http(WHAT))? {
                Progress::Data => {}
                Progress::Idle => return Ok(Next::Idle),
                Progress::End if self.buf.contains(&b'\n') => {}
                Progress::End => return Ok(Next::End),
            }
        }
    }
}

/// Reads one whole answer from `input` as [`Engine::get`] does with the socket: its status
/// and its body (by length, chunked or to the end). For tests and fuzzing of the reader.
pub fn read_answer<R: Read>(input: R) -> Result<(u16, Vec<u8>), EngineError> {
    confd_http::read_answer(input).map_err(http("answer"))
}

/// The event stream of an answer read from `input`, as [`Engine::events`] gives it for the
/// socket (without the idle time, which only a socket has). For tests and fuzzing.
pub fn event_stream<R: Read>(input: R) -> Result<EventStream<R>, EngineError> {
    let conn = Response::read_head(input).map_err(http("event stream"))?;
    Ok(EventStream { conn, buf: Vec::new() })
}

fn protocol(what: &str, why: String) -> EngineError {
    EngineError::Protocol { what: what.into(), why }
}

/// The engine's error for a failed HTTP exchange about `what`.
fn http(what: &str) -> impl Fn(HttpError) -> EngineError + '_ {
    move |e| match e {
        HttpError::Io(source) => EngineError::Io { what: what.into(), source },
        HttpError::Protocol(why) => protocol(what, why),
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::UnixListener;
    use std::thread;

    /// Serves one canned answer per connection on a socket in a temp dir.
    fn serve(
        answers: Vec<Vec<u8>>,
    ) -> (tempfile::TempDir, Engine, thread::JoinHandle<Vec<String>>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let handle = thread::spawn(move || {
            let mut requests = Vec::new();
            for answer in answers {
                let (mut s, _) = listener.accept().unwrap();
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut first = String::new();
                r.read_line(&mut first).unwrap();
                requests.push(first.trim_end().to_string());
                loop {
                    let mut l = String::new();
                    r.read_line(&mut l).unwrap();
                    if l == "\r\n" || l.is_empty() {
                        break;
                    }
                }
                s.write_all(&answer).unwrap();
            }
            requests
        });
        let engine = Engine::new(&path);
        (dir, engine, handle)
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Id {
        #[serde(rename = "Id")]
        id: String,
    }

    #[test]
    fn bodies_by_length_chunked_and_to_the_end_and_errors_with_the_engines_message() {
        let answers: Vec<&[u8]> = vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"Id\":\"a\"}\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"Id\r\n6\r\n\":\"b\"}\r\n0\r\n\r\n",
            b"HTTP/1.0 200 OK\r\n\r\n{\"Id\":\"c\"}",
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}",
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 22\r\n\r\n{\"message\":\"it broke\"}",
            b"garbage\r\n\r\n",
        ];
        let (_dir, engine, server) = serve(answers.into_iter().map(<[u8]>::to_vec).collect());
        let get = |p: &str| engine.get::<Id>("inspect", p);
        assert_eq!(get("/a").unwrap(), Some(Id { id: "a".into() }));
        assert_eq!(get("/b").unwrap(), Some(Id { id: "b".into() }));
        assert_eq!(get("/c").unwrap(), Some(Id { id: "c".into() }));
        assert_eq!(get("/d").unwrap(), None);
        assert_eq!(get("/e").unwrap_err().to_string(), "Docker inspect: HTTP 500: it broke");
        assert!(get("/f").unwrap_err().to_string().contains("not an HTTP answer"));
        let requests = server.join().unwrap();
        assert_eq!(requests[0], "GET /a HTTP/1.1");
        let missing = Engine::new(Path::new("/nonexistent/docker.sock"));
        assert!(missing
            .get::<Id>("inspect", "/x")
            .unwrap_err()
            .to_string()
            .starts_with("cannot connect to the Docker engine at /nonexistent/docker.sock: "));
    }

    #[test]
    fn events_split_across_and_within_chunks() {
        // Two events cut at arbitrary places, one chunk ending inside the second event.
        let pieces = [
            r#"{"Type":"container","Acti"#,
            "on\":\"start\",\"Actor\":{\"ID\":\"c1\"}}\n{\"Action\":\"die\",",
            "\"Actor\":{\"ID\":\"c2\"}}\n",
        ];
        let mut answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for p in pieces {
            answer.extend_from_slice(format!("{:x}\r\n{p}\r\n", p.len()).as_bytes());
        }
        answer.extend_from_slice(b"0\r\n\r\n");
        let (_dir, engine, _server) = serve(vec![answer]);
        let mut events = engine.events("/events", Duration::from_secs(5)).unwrap();
        let event = |n: Next| match n {
            Next::Event(e) => e,
            other => panic!("{other:?}"),
        };
        let e = event(events.next_event().unwrap());
        assert_eq!(
            (e.kind.as_str(), e.action.as_str(), e.actor.id.as_str()),
            ("container", "start", "c1")
        );
        let e = event(events.next_event().unwrap());
        assert_eq!((e.action.as_str(), e.actor.id.as_str()), ("die", "c2"));
        assert!(matches!(events.next_event().unwrap(), Next::End));
    }

    #[test]
    fn the_readers_refuse_broken_answers_without_reading_past_their_bounds() {
        // The readers behind the socket, over bytes (as the fuzz target drives them); the
        // malformed answers of every kind are confd-http's tests.
        let ok = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
        assert_eq!(read_answer(&ok[..]).unwrap(), (200, b"{}".to_vec()));
        let short = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort";
        assert!(read_answer(&short[..]).unwrap_err().to_string().starts_with("Docker answer: "));
        let huge_event = [&b"HTTP/1.1 200 OK\r\n\r\n"[..], &vec![b'x'; MAX_LINE + 10]].concat();
        let mut events = event_stream(&huge_event[..]).unwrap();
        let mut outcome = events.next_event();
        while let Ok(Next::Idle) = outcome {
            outcome = events.next_event();
        }
        assert!(outcome.unwrap_err().to_string().contains("event too large"));
    }

    #[test]
    fn a_quiet_stream_is_idle_and_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let (go_on, wait) = std::sync::mpsc::channel::<()>();
        let server = thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut l = String::new();
            while r.read_line(&mut l).unwrap() > 2 {
                l.clear();
            }
            s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
            wait.recv().unwrap();
            let ev = "{\"Action\":\"start\",\"Actor\":{\"ID\":\"c9\"}}\n";
            s.write_all(format!("{:x}\r\n{ev}\r\n", ev.len()).as_bytes()).unwrap();
            wait.recv().unwrap();
        });
        let engine = Engine::new(&path);
        let mut events = engine.events("/events", Duration::from_millis(100)).unwrap();
        assert!(matches!(events.next_event().unwrap(), Next::Idle));
        assert!(matches!(events.next_event().unwrap(), Next::Idle));
        go_on.send(()).unwrap();
        match events.next_event().unwrap() {
            Next::Event(e) => assert_eq!(e.actor.id, "c9"),
            other => panic!("{other:?}"),
        }
        go_on.send(()).unwrap();
        server.join().unwrap();
    }

    #[test]
    fn query_values_are_escaped() {
        assert_eq!(query_escape(r#"{"label":["a.b"]}"#), "%7B%22label%22%3A%5B%22a.b%22%5D%7D");
    }
}

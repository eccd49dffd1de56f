//! A small client of the Docker Engine API over its unix socket: HTTP/1.1 requests with
//! `Connection: close`, bodies by length, chunked or to the end, and the `/events` stream
//! (newline-separated JSON objects in chunks). Paths carry no API version, so the engine
//! answers in its own; the fields read here have been stable since API 1.24.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Answers larger than this are refused (a `docker inspect` is a few kilobytes).
const MAX_BODY: usize = 64 << 20;
const MAX_LINE: usize = 64 << 10;

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
        let body = conn.body(what)?;
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
    pub fn events(
        &self,
        path: &str,
        idle: Duration,
    ) -> Result<EventStream<UnixStream>, EngineError> {
        let what = "event stream";
        let mut conn = self.request(what, path, Some(self.timeout))?;
        if conn.status != 200 {
            let body = conn.body(what)?;
            return Err(status_error(what, conn.status, &body));
        }
        conn.reader
            .get_ref()
            .set_read_timeout(Some(idle))
            .map_err(|source| EngineError::Io { what: what.into(), source })?;
        Ok(EventStream { conn, buf: Vec::new(), chunk_left: 0, done: false })
    }

    fn request(
        &self,
        what: &str,
        path: &str,
        timeout: Option<Duration>,
    ) -> Result<Response<UnixStream>, EngineError> {
        let io = |source| EngineError::Io { what: what.into(), source };
        let mut stream = UnixStream::connect(&self.socket)
            .map_err(|source| EngineError::Unreachable { socket: self.socket.clone(), source })?;
        stream.set_read_timeout(timeout).map_err(io)?;
        stream.set_write_timeout(Some(self.timeout)).map_err(io)?;
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: confd-register/{}\r\nConnection: close\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        stream.write_all(req.as_bytes()).map_err(io)?;
        Response::read_head(BufReader::new(stream), what)
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

struct Response<R> {
    reader: BufReader<R>,
    status: u16,
    chunked: bool,
    length: Option<usize>,
}

impl<R: Read> Response<R> {
    fn read_head(mut reader: BufReader<R>, what: &str) -> Result<Response<R>, EngineError> {
        let status_line = read_line(&mut reader, what)?;
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|_| status_line.starts_with("HTTP/1."))
            .ok_or_else(|| protocol(what, format!("not an HTTP answer: {status_line:?}")))?;
        let (mut chunked, mut length) = (false, None);
        loop {
            let line = read_line(&mut reader, what)?;
            if line.is_empty() {
                break;
            }
            let Some((name, value)) = line.split_once(':') else { continue };
            let value = value.trim();
            if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value.parse().map_err(|_| protocol(what, format!("bad length {value:?}")))?,
                );
            }
        }
        Ok(Response { reader, status, chunked, length })
    }

    /// The whole body.
    fn body(&mut self, what: &str) -> Result<Vec<u8>, EngineError> {
        let io = |source| EngineError::Io { what: what.into(), source };
        let mut body = Vec::new();
        if self.chunked {
            loop {
                let size = chunk_size(&mut self.reader, what)?;
                if size == 0 {
                    return Ok(body);
                }
                if body.len().checked_add(size).is_none_or(|n| n > MAX_BODY) {
                    return Err(protocol(what, "answer too large".into()));
                }
                let start = body.len();
                body.resize(start + size, 0);
                self.reader.read_exact(&mut body[start..]).map_err(io)?;
                read_line(&mut self.reader, what)?;
            }
        }
        match self.length {
            Some(n) if n > MAX_BODY => Err(protocol(what, "answer too large".into())),
            Some(n) => {
                body.resize(n, 0);
                self.reader.read_exact(&mut body).map_err(io)?;
                Ok(body)
            }
            None => {
                (&mut self.reader).take(MAX_BODY as u64).read_to_end(&mut body).map_err(io)?;
                Ok(body)
            }
        }
    }
}

/// The `/events` stream: one [`Event`] at a time, as the engine sends them.
pub struct EventStream<R> {
    conn: Response<R>,
    buf: Vec<u8>,
    chunk_left: usize,
    done: bool,
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
            if self.done {
                return Ok(Next::End);
            }
            if self.buf.len() > MAX_LINE {
                return Err(protocol(WHAT, "event too large".into()));
            }
            if !self.fill(WHAT)? {
                return Ok(Next::Idle);
            }
        }
    }

    /// Reads more; `false` when nothing came within the idle time (nothing is consumed then).
    fn fill(&mut self, what: &str) -> Result<bool, EngineError> {
        let io = |source| EngineError::Io { what: what.into(), source };
        // Wait for data without consuming anything, so that an idle timeout loses nothing.
        match self.conn.reader.fill_buf() {
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Ok(false)
            }
            Err(e) => return Err(io(e)),
            Ok(_) => {}
        }
        if !self.conn.chunked {
            let mut tmp = [0u8; 8192];
            let n = self.conn.reader.read(&mut tmp).map_err(io)?;
            self.done = n == 0;
            self.buf.extend_from_slice(&tmp[..n]);
            return Ok(true);
        }
        if self.chunk_left == 0 {
            self.chunk_left = chunk_size(&mut self.conn.reader, what)?;
            if self.chunk_left == 0 {
                self.done = true;
                return Ok(true);
            }
        }
        let mut tmp = vec![0u8; self.chunk_left.min(8192)];
        let n = self.conn.reader.read(&mut tmp).map_err(io)?;
        if n == 0 {
            return Err(io(io::Error::new(io::ErrorKind::UnexpectedEof, "the stream ended")));
        }
        self.buf.extend_from_slice(&tmp[..n]);
        self.chunk_left -= n;
        if self.chunk_left == 0 {
            read_line(&mut self.conn.reader, what)?; // the CRLF after the chunk
        }
        Ok(true)
    }
}

fn chunk_size<R: Read>(reader: &mut BufReader<R>, what: &str) -> Result<usize, EngineError> {
    let line = read_line(reader, what)?;
    let hex = line.split(';').next().unwrap_or("").trim();
    usize::from_str_radix(hex, 16).map_err(|_| protocol(what, format!("bad chunk size {line:?}")))
}

/// One header or chunk line, without its CRLF. The end of the stream is an error here.
fn read_line<R: Read>(reader: &mut BufReader<R>, what: &str) -> Result<String, EngineError> {
    let mut line = Vec::new();
    let n = reader
        .by_ref()
        .take(MAX_LINE as u64)
        .read_until(b'\n', &mut line)
        .map_err(|source| EngineError::Io { what: what.into(), source })?;
    if n == 0 {
        return Err(EngineError::Io {
            what: what.into(),
            source: io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the engine closed the connection",
            ),
        });
    }
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// Reads one whole answer from `input` as [`Engine::get`] does with the socket: its status
/// and its body (by length, chunked or to the end). For tests and fuzzing of the reader.
pub fn read_answer<R: Read>(input: R) -> Result<(u16, Vec<u8>), EngineError> {
    let what = "answer";
    let mut response = Response::read_head(BufReader::new(input), what)?;
    let body = response.body(what)?;
    Ok((response.status, body))
}

/// The event stream of an answer read from `input`, as [`Engine::events`] gives it for the
/// socket (without the idle time, which only a socket has). For tests and fuzzing.
pub fn event_stream<R: Read>(input: R) -> Result<EventStream<R>, EngineError> {
    let conn = Response::read_head(BufReader::new(input), "event stream")?;
    Ok(EventStream { conn, buf: Vec::new(), chunk_left: 0, done: false })
}

fn protocol(what: &str, why: String) -> EngineError {
    EngineError::Protocol { what: what.into(), why }
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
        // The readers behind the socket, over bytes (as the fuzz target drives them).
        let ok = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
        assert_eq!(read_answer(&ok[..]).unwrap(), (200, b"{}".to_vec()));
        let broken: [&[u8]; 5] = [
            b"",
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        ];
        for input in broken {
            assert!(read_answer(input).is_err(), "{:?}", String::from_utf8_lossy(input));
        }
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

//! The HTTP/1.1 client of confd-rs: the Docker engine's unix socket (confd-register), a
//! live-membership endpoint (confd's push resources) and the etcd v2 API (confd's `etcdv2`
//! backend, over TCP or TLS, see [`tls`]). One request per connection (`Connection: close`);
//! answers with a body by length, chunked, or to the end of the connection; a body can also be
//! read as a stream (Docker's `/events`, an etcd v2 long poll).
//!
//! Reading is generic over [`Read`], so the parser is unit-tested and fuzzed on bytes.
#![forbid(unsafe_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

pub mod tls;

/// Answers larger than this are refused.
pub const MAX_BODY: usize = 64 << 20;
/// The longest header or chunk-size line.
pub const MAX_LINE: usize = 64 << 10;
/// Answers with more headers than this are refused.
pub const MAX_HEADERS: usize = 256;

/// Why an exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The connection failed or ended early.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The answer is not HTTP as expected.
    #[error("{0}")]
    Protocol(String),
}

fn protocol(why: impl Into<String>) -> HttpError {
    HttpError::Protocol(why.into())
}

/// A connection to an endpoint.
pub enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
    Tls(Box<tls::TlsStream>),
}

impl Conn {
    /// Connects to a unix socket.
    pub fn unix(path: &Path) -> io::Result<Conn> {
        UnixStream::connect(path).map(Conn::Unix)
    }

    /// Connects to `addr` (`HOST:PORT`) within `timeout`.
    pub fn tcp(addr: &str, timeout: Duration) -> io::Result<Conn> {
        connect_tcp(addr, timeout).map(Conn::Tcp)
    }

    /// Connects to `addr` (`HOST:PORT`) within `timeout` and starts TLS as `client` says,
    /// checking the server's certificate for `host`. The handshake happens with the first
    /// exchange, under the connection's timeouts.
    pub fn tls(
        addr: &str,
        host: &str,
        timeout: Duration,
        client: &tls::TlsClient,
    ) -> Result<Conn, tls::TlsError> {
        let tcp = connect_tcp(addr, timeout)?;
        Ok(Conn::Tls(Box::new(client.wrap(host, tcp)?)))
    }

    fn socket(&self) -> SocketRef<'_> {
        match self {
            Conn::Unix(s) => SocketRef::Unix(s),
            Conn::Tcp(s) => SocketRef::Tcp(s),
            Conn::Tls(s) => SocketRef::Tcp(s.get_ref()),
        }
    }

    /// Sets both the read and the write timeout (`None`: wait forever).
    pub fn set_timeouts(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self.socket() {
            SocketRef::Unix(s) => s.set_read_timeout(timeout).and(s.set_write_timeout(timeout)),
            SocketRef::Tcp(s) => s.set_read_timeout(timeout).and(s.set_write_timeout(timeout)),
        }
    }

    /// Sets the read timeout only (an event stream's idle time).
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self.socket() {
            SocketRef::Unix(s) => s.set_read_timeout(timeout),
            SocketRef::Tcp(s) => s.set_read_timeout(timeout),
        }
    }

    /// Sends one request and reads the head of its answer.
    pub fn exchange(mut self, request: &Request<'_>) -> Result<Response<Conn>, HttpError> {
        self.write_all(&request.to_bytes())?;
        Response::read_head(self)
    }
}

/// The socket under a connection, for its options.
enum SocketRef<'a> {
    Unix(&'a UnixStream),
    Tcp(&'a TcpStream),
}

fn connect_tcp(addr: &str, timeout: Duration) -> io::Result<TcpStream> {
    use std::net::ToSocketAddrs;
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address");
    for a in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Unix(s) => s.read(buf),
            Conn::Tcp(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Unix(s) => s.write(buf),
            Conn::Tcp(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Unix(s) => s.flush(),
            Conn::Tcp(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// Standard base64 with padding (RFC 4648 §4): for `Authorization: Basic` and etcd's JSON
/// gateway.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One request: `Connection: close`, a `Host` and `User-Agent`, any further headers, and a
/// JSON body if any.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub host: &'a str,
    pub user_agent: &'a str,
    /// Further headers (`Authorization`, …), as sent.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: Option<&'a [u8]>,
}

impl Request<'_> {
    /// The request as sent.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nConnection: close\r\n",
            self.method, self.path, self.host, self.user_agent
        );
        for (name, value) in self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(body) = self.body {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(self.body.unwrap_or_default());
        bytes
    }
}

/// An answer whose head has been read; the body follows.
pub struct Response<R> {
    reader: BufReader<R>,
    pub status: u16,
    /// The headers, names as sent.
    headers: Vec<(String, String)>,
    chunked: bool,
    length: Option<usize>,
    /// Streaming: bytes left of the current chunk, and whether the body has ended.
    chunk_left: usize,
    done: bool,
}

/// What [`Response::read_some`] got.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// Bytes were appended.
    Data,
    /// Nothing came within the read timeout (nothing was consumed).
    Idle,
    /// The body has ended.
    End,
}

impl<R: Read> Response<R> {
    /// Reads the status line and the headers.
    pub fn read_head(input: R) -> Result<Response<R>, HttpError> {
        let mut reader = BufReader::new(input);
        let status_line = read_line(&mut reader)?;
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|_| status_line.starts_with("HTTP/1."))
            .ok_or_else(|| protocol(format!("not an HTTP answer: {status_line:?}")))?;
        let (mut chunked, mut length) = (false, None);
        let mut headers = Vec::new();
        loop {
            let line = read_line(&mut reader)?;
            if line.is_empty() {
                break;
            }
            if headers.len() >= MAX_HEADERS {
                return Err(protocol("too many headers"));
            }
            let Some((name, value)) = line.split_once(':') else { continue };
            let value = value.trim();
            if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("content-length") {
                length =
                    Some(value.parse().map_err(|_| protocol(format!("bad length {value:?}")))?);
            }
            headers.push((name.to_string(), value.to_string()));
        }
        Ok(Response { reader, status, headers, chunked, length, chunk_left: 0, done: false })
    }

    /// The value of header `name` (the first one, compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The connection under the answer (to change its timeouts).
    pub fn get_ref(&self) -> &R {
        self.reader.get_ref()
    }

    /// The whole body.
    pub fn body(&mut self) -> Result<Vec<u8>, HttpError> {
        let mut body = Vec::new();
        if self.chunked {
            loop {
                let size = chunk_size(&mut self.reader)?;
                if size == 0 {
                    return Ok(body);
                }
                if body.len().checked_add(size).is_none_or(|n| n > MAX_BODY) {
                    return Err(protocol("answer too large"));
                }
                let start = body.len();
                body.resize(start + size, 0);
                self.reader.read_exact(&mut body[start..])?;
                read_line(&mut self.reader)?;
            }
        }
        match self.length {
            Some(n) if n > MAX_BODY => Err(protocol("answer too large")),
            Some(n) => {
                body.resize(n, 0);
                self.reader.read_exact(&mut body)?;
                Ok(body)
            }
            None => {
                (&mut self.reader).take(MAX_BODY as u64).read_to_end(&mut body)?;
                Ok(body)
            }
        }
    }

    /// Streams the body: appends what arrives next to `buf`.
    pub fn read_some(&mut self, buf: &mut Vec<u8>) -> Result<Progress, HttpError> {
        if self.done {
            return Ok(Progress::End);
        }
        // Wait for data without consuming anything, so that an idle timeout loses nothing.
        match self.reader.fill_buf() {
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Ok(Progress::Idle)
            }
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
        if !self.chunked {
            let mut tmp = [0u8; 8192];
            let n = self.reader.read(&mut tmp)?;
            self.done = n == 0;
            buf.extend_from_slice(&tmp[..n]);
            return Ok(if self.done { Progress::End } else { Progress::Data });
        }
        if self.chunk_left == 0 {
            self.chunk_left = chunk_size(&mut self.reader)?;
            if self.chunk_left == 0 {
                self.done = true;
                return Ok(Progress::End);
            }
        }
        let mut tmp = vec![0u8; self.chunk_left.min(8192)];
        let n = self.reader.read(&mut tmp)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the stream ended").into());
        }
        buf.extend_from_slice(&tmp[..n]);
        self.chunk_left -= n;
        if self.chunk_left == 0 {
            read_line(&mut self.reader)?; // the CRLF after the chunk
        }
        Ok(Progress::Data)
    }
}

/// Reads one whole answer from `input`: its status and its body. For tests and fuzzing.
pub fn read_answer<R: Read>(input: R) -> Result<(u16, Vec<u8>), HttpError> {
    let mut response = Response::read_head(input)?;
    let body = response.body()?;
    Ok((response.status, body))
}

fn chunk_size<R: Read>(reader: &mut BufReader<R>) -> Result<usize, HttpError> {
    let line = read_line(reader)?;
    let hex = line.split(';').next().unwrap_or("").trim();
    usize::from_str_radix(hex, 16).map_err(|_| protocol(format!("bad chunk size {line:?}")))
}

/// One header or chunk line, without its CRLF. The end of the stream is an error here.
fn read_line<R: Read>(reader: &mut BufReader<R>) -> Result<String, HttpError> {
    let mut line = Vec::new();
    let n = reader.by_ref().take(MAX_LINE as u64).read_until(b'\n', &mut line)?;
    if n == 0 {
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "the peer closed the connection");
        return Err(eof.into());
    }
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_by_length_chunked_and_to_the_end() {
        let answers: [(&[u8], u16, &[u8]); 4] = [
            (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef", 200, b"abc"),
            (b"HTTP/1.1 409 Conflict\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1;x\r\nc\r\n0\r\n\r\n", 409, b"abc"),
            (b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nabc", 200, b"abc"),
            (b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", 204, b""),
        ];
        for (input, status, body) in answers {
            assert_eq!(read_answer(input).unwrap(), (status, body.to_vec()));
        }
    }

    #[test]
    fn base64_pads_as_rfc_4648_says() {
        let cases: [(&[u8], &str); 4] =
            [(b"", ""), (b"f", "Zg=="), (b"fo", "Zm8="), (b"user:p@ss", "dXNlcjpwQHNz")];
        for (input, want) in cases {
            assert_eq!(base64(input), want);
        }
    }

    #[test]
    fn headers_are_kept_and_found_without_case() {
        let input: &[u8] = b"HTTP/1.1 200 OK\r\nX-Etcd-Index: 42\r\nContent-Length: 0\r\n\r\n";
        let response = Response::read_head(input).unwrap();
        assert_eq!(response.header("x-etcd-index"), Some("42"));
        assert_eq!(response.header("X-Missing"), None);
        let many = format!("HTTP/1.1 200 OK\r\n{}\r\n", "X: y\r\n".repeat(MAX_HEADERS + 1));
        assert!(Response::read_head(many.as_bytes()).is_err());
    }

    #[test]
    fn malformed_answers_are_errors() {
        let bad: [&[u8]; 8] = [
            b"",
            b"garbage\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
            b"HTTP/1.1 200 OK\r\n",
        ];
        for input in bad {
            assert!(read_answer(input).is_err(), "{:?}", String::from_utf8_lossy(input));
        }
        let huge = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", MAX_BODY + 1);
        assert!(read_answer(huge.as_bytes()).is_err());
    }

    #[test]
    fn streams_chunks_as_they_come() {
        let input: &[u8] =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab\n\r\n2\r\ncd\r\n0\r\n\r\n";
        let mut r = Response::read_head(input).unwrap();
        let mut buf = Vec::new();
        while r.read_some(&mut buf).unwrap() == Progress::Data {}
        assert_eq!(buf, b"ab\ncd");
        assert_eq!(r.read_some(&mut buf).unwrap(), Progress::End);
    }

    #[test]
    fn requests_carry_host_length_and_close() {
        let req = Request {
            method: "POST",
            path: "/membership",
            host: "localhost",
            user_agent: "confd/0",
            headers: &[("Authorization", "Basic eDp5")],
            body: Some(b"{}"),
        };
        assert_eq!(
            String::from_utf8(req.to_bytes()).unwrap(),
            "POST /membership HTTP/1.1\r\nHost: localhost\r\nUser-Agent: confd/0\r\n\
             Connection: close\r\nAuthorization: Basic eDp5\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        );
    }
}

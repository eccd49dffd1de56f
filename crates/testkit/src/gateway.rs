//! A minimal HTTP/1.1 client for etcd's JSON gateway (`/v3/kv/*`), on one keep-alive
//! connection: writes in about a millisecond each, so tests can make thousands of changes and
//! time what confd does with them rather than `etcdctl`'s start-up.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

pub use confd_http::base64;

/// `POST /v3/kv/put` and `/v3/kv/deleterange` to one member's gateway.
pub struct Gateway {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
    /// For connecting, and for each read and write.
    timeout: Duration,
}

impl Gateway {
    /// A gateway client for `http://127.0.0.1:PORT`, with 1 s to connect and 3 s per read or
    /// write.
    pub fn new(endpoint: &str) -> Gateway {
        Gateway::with_timeout(endpoint, Duration::from_secs(3))
    }

    /// The same, with `timeout` to connect and per read or write (a hung member costs that).
    pub fn with_timeout(endpoint: &str, timeout: Duration) -> Gateway {
        let hostport = endpoint.strip_prefix("http://").expect("a plain http:// endpoint");
        Gateway { addr: hostport.parse().expect("127.0.0.1:PORT"), conn: None, timeout }
    }

    pub fn put(&mut self, key: &str, value: &str) -> Result<(), String> {
        let body = format!(
            "{{\"key\":\"{}\",\"value\":\"{}\"}}",
            base64(key.as_bytes()),
            base64(value.as_bytes())
        );
        self.call("/v3/kv/put", &body)
    }

    pub fn del(&mut self, key: &str) -> Result<(), String> {
        self.call("/v3/kv/deleterange", &format!("{{\"key\":\"{}\"}}", base64(key.as_bytes())))
    }

    /// One transaction (one revision) of puts and deletes.
    pub fn txn(&mut self, puts: &[(&str, &str)], dels: &[&str]) -> Result<(), String> {
        let mut ops: Vec<String> = puts
            .iter()
            .map(|(k, v)| {
                format!(
                    "{{\"request_put\":{{\"key\":\"{}\",\"value\":\"{}\"}}}}",
                    base64(k.as_bytes()),
                    base64(v.as_bytes())
                )
            })
            .collect();
        ops.extend(dels.iter().map(|k| {
            format!("{{\"request_delete_range\":{{\"key\":\"{}\"}}}}", base64(k.as_bytes()))
        }));
        self.call("/v3/kv/txn", &format!("{{\"success\":[{}]}}", ops.join(",")))
    }

    /// One request; the connection is dropped (and made again next time) after any failure.
    pub fn call(&mut self, path: &str, body: &str) -> Result<(), String> {
        let result = self.try_call(path, body);
        if result.is_err() {
            self.conn = None;
        }
        result.map_err(|e| format!("{} {path}: {e}", self.addr))
    }

    pub fn try_call(&mut self, path: &str, body: &str) -> Result<(), String> {
        let (status, response) = self.exchange("POST", path, "application/json", body)?;
        if status != 200 || response.contains("\"error\"") {
            return Err(format!("HTTP {status}: {response}"));
        }
        Ok(())
    }

    /// The v2 API's `set` (`PUT /v2/keys/KEY`, `value=…`); etcd needs `--enable-v2`.
    pub fn v2_set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let body = format!("value={}", form_encode(value));
        self.v2("PUT", key, &body)
    }

    /// The v2 API's `rm` of a key, or of a directory with everything in it.
    pub fn v2_rm(&mut self, key: &str) -> Result<(), String> {
        self.v2("DELETE", &format!("{key}?recursive=true"), "")
    }

    fn v2(&mut self, method: &str, key: &str, body: &str) -> Result<(), String> {
        let (key, query) = key.split_once('?').unwrap_or((key, ""));
        let encoded: Vec<String> = key.split('/').map(form_encode).collect();
        let query = if query.is_empty() { String::new() } else { format!("?{query}") };
        let path = format!("/v2/keys{}{query}", encoded.join("/"));
        let result = self.exchange(method, &path, "application/x-www-form-urlencoded", body);
        match result {
            Ok((200 | 201, _)) => Ok(()),
            Ok((status, response)) => Err(format!("{method} {path}: HTTP {status}: {response}")),
            Err(e) => {
                self.conn = None;
                Err(format!("{} {method} {path}: {e}", self.addr))
            }
        }
    }

    /// One request on the kept-alive connection: the status and the body.
    fn exchange(
        &mut self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> Result<(u16, String), String> {
        if self.conn.is_none() {
            let s =
                TcpStream::connect_timeout(&self.addr, self.timeout.min(Duration::from_secs(1)))
                    .map_err(|e| e.to_string())?;
            s.set_read_timeout(Some(self.timeout)).map_err(|e| e.to_string())?;
            s.set_write_timeout(Some(self.timeout)).map_err(|e| e.to_string())?;
            s.set_nodelay(true).map_err(|e| e.to_string())?;
            self.conn = Some(BufReader::new(s));
        }
        let conn = self.conn.as_mut().expect("connected above");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        conn.get_mut().write_all(request.as_bytes()).map_err(|e| e.to_string())?;
        let mut status = String::new();
        conn.read_line(&mut status).map_err(|e| e.to_string())?;
        if status.is_empty() {
            return Err("connection closed".into());
        }
        let (mut length, mut chunked, mut close) = (None, false, false);
        loop {
            let mut line = String::new();
            conn.read_line(&mut line).map_err(|e| e.to_string())?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = Some(v.trim().parse::<usize>().map_err(|e| e.to_string())?);
            } else if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            } else if lower.starts_with("connection:") && lower.contains("close") {
                close = true;
            }
        }
        let mut response = Vec::new();
        if chunked {
            loop {
                let mut size = String::new();
                conn.read_line(&mut size).map_err(|e| e.to_string())?;
                let size = usize::from_str_radix(size.trim(), 16).map_err(|e| e.to_string())?;
                let mut chunk = vec![0; size + 2];
                conn.read_exact(&mut chunk).map_err(|e| e.to_string())?;
                if size == 0 {
                    break;
                }
                response.extend_from_slice(&chunk[..size]);
            }
        } else if let Some(n) = length {
            response.resize(n, 0);
            conn.read_exact(&mut response).map_err(|e| e.to_string())?;
        } else {
            return Err(format!("response without a length: {}", status.trim()));
        }
        if close {
            self.conn = None;
        }
        let code = status.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        Ok((code, String::from_utf8_lossy(&response).into_owned()))
    }
}

/// `application/x-www-form-urlencoded` for a value: unreserved bytes as they are, the rest
/// as `%XX`.
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Gateways to several members: a request that fails moves to the next member and is retried
/// (puts, deletes and these transactions are idempotent), until `deadline` has passed.
pub struct FailoverWriter {
    gateways: Vec<Gateway>,
    current: usize,
    deadline: Duration,
}

impl FailoverWriter {
    /// `attempt`: the time one member gets (to connect, and per read or write); `deadline`: how
    /// long one write is retried before the test fails.
    pub fn new(endpoints: &[String], attempt: Duration, deadline: Duration) -> FailoverWriter {
        let gateways = endpoints.iter().map(|e| Gateway::with_timeout(e, attempt)).collect();
        FailoverWriter { gateways, current: 0, deadline }
    }

    /// Runs `op` on the current member, moving on after each failure; panics after the deadline.
    pub fn with_retries(&mut self, mut op: impl FnMut(&mut Gateway) -> Result<(), String>) {
        let deadline = std::time::Instant::now() + self.deadline;
        loop {
            match op(&mut self.gateways[self.current]) {
                Ok(()) => return,
                Err(e) if std::time::Instant::now() >= deadline => {
                    panic!("write failed for {:?}: {e}", self.deadline)
                }
                Err(e) => {
                    eprintln!("writer: member {}: {e}; next member", self.current);
                    self.current = (self.current + 1) % self.gateways.len();
                    // Pacing between attempts, not synchronisation.
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }

    pub fn put(&mut self, key: &str, value: &str) {
        self.with_retries(|g| g.put(key, value))
    }

    pub fn del(&mut self, key: &str) {
        self.with_retries(|g| g.del(key))
    }

    /// One transaction: puts (value `Some`) and deletes (`None`).
    pub fn txn(&mut self, ops: &[(&str, Option<&str>)]) {
        let puts: Vec<(&str, &str)> = ops.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
        let dels: Vec<&str> = ops.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| *k).collect();
        self.with_retries(|g| g.txn(&puts, &dels))
    }
}

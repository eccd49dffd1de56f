//! Health checks: an HTTP GET (a small HTTP/1.1 client over `TcpStream`), a TCP connect, or a
//! shell command; each under a time limit, each failure said in a few words.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cli::fmt_duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// No check: healthy while the agent runs.
    None,
    /// `GET path`; healthy on status 2xx or 3xx.
    Http { host: String, port: u16, path: String, host_header: String },
    /// Healthy when a connection is accepted.
    Tcp { host: String, port: u16 },
    /// `/bin/sh -c CMD`; healthy on exit status 0. Killed (with its process group) at the
    /// time limit.
    Cmd(String),
}

impl Check {
    pub fn describe(&self) -> String {
        match self {
            Check::None => "none".into(),
            Check::Http { host_header, path, .. } => format!("http://{host_header}{path}"),
            Check::Tcp { host, port } if host.contains(':') => format!("tcp://[{host}]:{port}"),
            Check::Tcp { host, port } => format!("tcp://{host}:{port}"),
            Check::Cmd(cmd) => format!("command `{cmd}`"),
        }
    }

    /// Runs the check once; `Err` says why it failed.
    pub fn run(&self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        match self {
            Check::None => Ok(()),
            Check::Tcp { host, port } => connect(host, *port, deadline, timeout).map(drop),
            Check::Http { host, port, path, host_header } => {
                http_get(host, *port, path, host_header, deadline, timeout)
            }
            Check::Cmd(cmd) => command(cmd, deadline, timeout),
        }
    }
}

fn remaining(deadline: Instant) -> Option<Duration> {
    deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
}

fn connect(host: &str, port: u16, deadline: Instant, limit: Duration) -> Result<TcpStream, String> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {}", plain(&e)))?
        .collect();
    let mut last = format!("{host} has no address");
    for addr in addrs {
        let Some(left) = remaining(deadline) else { break };
        match TcpStream::connect_timeout(&addr, left) {
            Ok(s) => return Ok(s),
            Err(e) => last = io_reason(&e, limit),
        }
    }
    if remaining(deadline).is_none() {
        return Err(format!("no answer within {}", fmt_duration(limit)));
    }
    Err(last)
}

fn http_get(
    host: &str,
    port: u16,
    path: &str,
    host_header: &str,
    deadline: Instant,
    limit: Duration,
) -> Result<(), String> {
    let timed_out = || format!("no answer within {}", fmt_duration(limit));
    let mut stream = connect(host, port, deadline, limit)?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: confd-register\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    stream.set_write_timeout(Some(remaining(deadline).ok_or_else(timed_out)?)).ok();
    stream.write_all(request.as_bytes()).map_err(|e| io_reason(&e, limit))?;
    // Read up to the end of the status line.
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 512];
    while !buf.windows(2).any(|w| w == b"\r\n") {
        if buf.len() > 8192 {
            return Err("the answer is not HTTP (no status line in 8 KiB)".into());
        }
        stream.set_read_timeout(Some(remaining(deadline).ok_or_else(timed_out)?)).ok();
        match stream.read(&mut chunk) {
            Ok(0) if buf.is_empty() => {
                return Err("the connection was closed without an answer".into())
            }
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io_reason(&e, limit)),
        }
    }
    let line = String::from_utf8_lossy(&buf);
    let line = line.split("\r\n").next().unwrap_or_default();
    let mut parts = line.splitn(3, ' ');
    let (version, code, reason) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
    let code: u16 = match (version, code.and_then(|c| c.parse().ok())) {
        (Some(v), Some(c)) if v.starts_with("HTTP/") => c,
        _ => return Err(format!("the answer is not HTTP: {:?}", truncate(line, 60))),
    };
    if (200..400).contains(&code) {
        Ok(())
    } else {
        Err(format!("HTTP {code} {}", truncate(reason.trim(), 60)).trim_end().to_string())
    }
}

fn command(cmd: &str, deadline: Instant, limit: Duration) -> Result<(), String> {
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot run /bin/sh: {}", plain(&e)))?;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                return Err(match (status.code(), status.signal()) {
                    (Some(code), _) => format!("the command exited with status {code}"),
                    (None, Some(sig)) => format!("the command was killed by signal {sig}"),
                    _ => format!("the command failed ({status})"),
                })
            }
            Ok(None) => {}
            Err(e) => return Err(format!("waiting for the command: {}", plain(&e))),
        }
        if remaining(deadline).is_none() {
            // The whole group: a shell's children too.
            let pid = rustix::process::Pid::from_child(&child);
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("the command did not finish within {}", fmt_duration(limit)));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn io_reason(e: &std::io::Error, limit: Duration) -> String {
    match e.kind() {
        ErrorKind::ConnectionRefused => "connection refused".into(),
        ErrorKind::ConnectionReset => "connection reset".into(),
        ErrorKind::TimedOut | ErrorKind::WouldBlock => {
            format!("no answer within {}", fmt_duration(limit))
        }
        _ => plain(e),
    }
}

/// An I/O error without ` (os error N)`.
fn plain(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    /// Answers every connection with `response`, then closes it.
    fn server(response: &'static str) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf);
                let _ = s.write_all(response.as_bytes());
            }
        });
        port
    }

    fn http(port: u16) -> Check {
        Check::Http {
            host: "127.0.0.1".into(),
            port,
            path: "/health".into(),
            host_header: format!("127.0.0.1:{port}"),
        }
    }

    #[test]
    fn http_status_decides() {
        let t = Duration::from_secs(2);
        assert_eq!(http(server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")).run(t), Ok(()));
        assert_eq!(http(server("HTTP/1.0 302 Found\r\n\r\n")).run(t), Ok(()));
        assert_eq!(
            http(server("HTTP/1.1 503 Service Unavailable\r\n\r\n")).run(t),
            Err("HTTP 503 Service Unavailable".into())
        );
        assert_eq!(http(server("HTTP/1.1 500\r\n\r\n")).run(t), Err("HTTP 500".into()));
        assert!(http(server("SSH-2.0-x\r\n")).run(t).unwrap_err().contains("not HTTP"));
        assert!(http(server("")).run(t).unwrap_err().contains("closed without an answer"));
        // A server that never answers.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let start = Instant::now();
        let r = http(port).run(Duration::from_millis(300));
        assert_eq!(r, Err("no answer within 300ms".into()));
        assert!(start.elapsed() < Duration::from_secs(1));
        drop(l);
        assert_eq!(http(port).run(t), Err("connection refused".into()));
    }

    #[test]
    fn tcp_and_command() {
        let t = Duration::from_secs(2);
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let tcp = Check::Tcp { host: "127.0.0.1".into(), port };
        assert_eq!(tcp.run(t), Ok(()));
        drop(l);
        assert_eq!(tcp.run(t), Err("connection refused".into()));
        assert_eq!(tcp.describe(), format!("tcp://127.0.0.1:{port}"));

        assert_eq!(Check::Cmd("true".into()).run(t), Ok(()));
        assert_eq!(
            Check::Cmd("exit 3".into()).run(t),
            Err("the command exited with status 3".into())
        );
        let start = Instant::now();
        assert_eq!(
            Check::Cmd("sleep 5; true".into()).run(Duration::from_millis(200)),
            Err("the command did not finish within 200ms".into())
        );
        assert!(start.elapsed() < Duration::from_secs(2));
    }
}

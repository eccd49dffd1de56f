//! What a running `confd` or `confd-register` tells an operator, over HTTP on an address the
//! operator chooses (`-metrics-addr`; nothing is served without it):
//!
//! - `GET /metrics`: the process's metrics in the Prometheus text format
//!   ([`prometheus_client`], the Prometheus project's crate);
//! - `GET /health`: 200 while the process's main loop is alive (it [`Status::beat`]s at least
//!   every few seconds), 503 when it has not beaten for [`STALE_AFTER`];
//! - `GET /ready`: 200 once the process says it is ready ([`Status::set_ready`]), else 503 with
//!   the reason it gave.
//!
//! The server is one thread answering one short request at a time (`Connection: close`);
//! nothing it does can block the main loop, which only stores values.
#![forbid(unsafe_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub mod systemd;

pub use prometheus_client;
use prometheus_client::registry::Registry;

/// The main loop counts as hung when it has not beaten for this long.
pub const STALE_AFTER: Duration = Duration::from_secs(30);
/// How often a loop should beat, at least (more often under a shorter systemd watchdog).
pub const BEAT_EVERY: Duration = Duration::from_secs(5);

/// Liveness and readiness, set by the main loop and read by the server; also told to systemd
/// (`READY=1` the first time the process is ready, `WATCHDOG=1` as the loop beats).
pub struct Status {
    started: Instant,
    /// Milliseconds since `started` of the last beat.
    last_beat_ms: AtomicU64,
    /// `Ok` when ready, else why not.
    ready: Mutex<Result<(), String>>,
    /// systemd has been told READY=1.
    told_ready: std::sync::atomic::AtomicBool,
    /// `$WATCHDOG_USEC`, when systemd wants watchdog pings, and when the last was sent (ms
    /// since `started`).
    watchdog: Option<Duration>,
    last_ping_ms: AtomicU64,
}

impl Status {
    /// Alive now, not ready yet (`why`).
    pub fn new(why: impl Into<String>) -> Arc<Status> {
        Arc::new(Status {
            started: Instant::now(),
            last_beat_ms: AtomicU64::new(0),
            ready: Mutex::new(Err(why.into())),
            told_ready: std::sync::atomic::AtomicBool::new(false),
            watchdog: systemd::watchdog_interval(),
            last_ping_ms: AtomicU64::new(0),
        })
    }

    /// How long the main loop may wait before it beats again.
    pub fn beat_every(&self) -> Duration {
        match self.watchdog {
            Some(w) => BEAT_EVERY.min(w / 3),
            None => BEAT_EVERY,
        }
    }

    /// The main loop is alive (and systemd's watchdog is told, at least every half interval).
    pub fn beat(&self) {
        let ms = self.started.elapsed().as_millis().try_into().unwrap_or(u64::MAX);
        self.last_beat_ms.store(ms, Ordering::Relaxed);
        if let Some(w) = self.watchdog {
            let last = self.last_ping_ms.load(Ordering::Relaxed);
            let half = u64::try_from((w / 2).as_millis()).unwrap_or(u64::MAX);
            if last == 0 || ms.saturating_sub(last) >= half {
                self.last_ping_ms.store(ms.max(1), Ordering::Relaxed);
                let _ = systemd::notify("WATCHDOG=1");
            }
        }
    }

    /// How long since the last beat.
    pub fn since_beat(&self) -> Duration {
        let last = Duration::from_millis(self.last_beat_ms.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }

    /// The first time `ready` is `Ok`, systemd is told `READY=1`.
    pub fn set_ready(&self, ready: Result<(), String>) {
        let now_ready = ready.is_ok();
        *self.ready.lock().unwrap_or_else(PoisonError::into_inner) = ready;
        if now_ready && !self.told_ready.swap(true, Ordering::SeqCst) {
            let _ = systemd::notify("READY=1");
        }
    }

    pub fn ready(&self) -> Result<(), String> {
        self.ready.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// Seconds since the Unix epoch, for "last time" gauges.
pub fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Serves `/metrics`, `/health` and `/ready` on `addr` (`HOST:PORT`) from a thread of its own.
/// Fails only if the address cannot be bound.
pub fn serve(addr: &str, registry: Arc<Registry>, status: Arc<Status>) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let bound = listener.local_addr()?;
    std::thread::Builder::new().name("metrics".into()).spawn(move || {
        for conn in listener.incoming().flatten() {
            // One slow or broken client costs at most its own timeouts.
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = conn.set_write_timeout(Some(Duration::from_secs(5)));
            let _ = answer(conn, &registry, &status);
        }
    })?;
    Ok(bound)
}

fn answer(conn: TcpStream, registry: &Registry, status: &Status) -> io::Result<()> {
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    reader.by_ref().take(8192).read_line(&mut line)?;
    loop {
        // The headers: read and ignored, so the client sees its request consumed.
        let mut header = String::new();
        if reader.by_ref().take(8192).read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (code, content_type, body) = route(method, path, registry, status);
    let mut conn = reader.into_inner();
    write!(
        conn,
        "HTTP/1.1 {code}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The answer to a request: status line text, content type, body.
fn route(
    method: &str,
    path: &str,
    registry: &Registry,
    status: &Status,
) -> (&'static str, &'static str, String) {
    const TEXT: &str = "text/plain; charset=utf-8";
    if method != "GET" && method != "HEAD" {
        return ("405 Method Not Allowed", TEXT, "GET only\n".into());
    }
    match path.split('?').next().unwrap_or("") {
        "/metrics" => {
            let mut out = String::new();
            match prometheus_client::encoding::text::encode(&mut out, registry) {
                Ok(()) => {
                    ("200 OK", "application/openmetrics-text; version=1.0.0; charset=utf-8", out)
                }
                Err(e) => ("500 Internal Server Error", TEXT, format!("encoding failed: {e}\n")),
            }
        }
        "/health" => {
            let since = status.since_beat();
            if since < STALE_AFTER {
                ("200 OK", TEXT, "ok\n".into())
            } else {
                let why = format!("the main loop has not run for {} s\n", since.as_secs());
                ("503 Service Unavailable", TEXT, why)
            }
        }
        "/ready" => match status.ready() {
            Ok(()) => ("200 OK", TEXT, "ready\n".into()),
            Err(why) => ("503 Service Unavailable", TEXT, format!("not ready: {why}\n")),
        },
        _ => ("404 Not Found", TEXT, "/metrics, /health or /ready\n".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::metrics::counter::Counter;

    fn get(addr: SocketAddr, path: &str) -> (u16, String) {
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        (head.split(' ').nth(1).unwrap().parse().unwrap(), body.to_string())
    }

    #[test]
    fn serves_metrics_health_and_readiness() {
        let mut registry = Registry::default();
        let c = Counter::<u64>::default();
        registry.register("things", "Things done", c.clone());
        c.inc_by(3);
        let status = Status::new("no data yet");
        status.beat();
        let addr = serve("127.0.0.1:0", Arc::new(registry), status.clone()).unwrap();
        let (code, body) = get(addr, "/metrics");
        assert_eq!(code, 200);
        assert!(body.contains("things_total 3"), "{body}");
        assert_eq!(get(addr, "/health"), (200, "ok\n".into()));
        assert_eq!(get(addr, "/ready"), (503, "not ready: no data yet\n".into()));
        status.set_ready(Ok(()));
        assert_eq!(get(addr, "/ready"), (200, "ready\n".into()));
        assert_eq!(get(addr, "/nope").0, 404);
    }

    #[test]
    fn a_loop_that_stopped_beating_is_not_healthy() {
        let status = Status::new("x");
        // Beaten "long ago": started earlier than the staleness bound.
        let old = Status {
            started: Instant::now() - STALE_AFTER - Duration::from_secs(1),
            last_beat_ms: AtomicU64::new(0),
            ready: Mutex::new(Ok(())),
            told_ready: std::sync::atomic::AtomicBool::new(true),
            watchdog: None,
            last_ping_ms: AtomicU64::new(0),
        };
        assert!(old.since_beat() > STALE_AFTER);
        status.beat();
        assert!(status.since_beat() < STALE_AFTER);
        let registry = Registry::default();
        assert_eq!(route("GET", "/health", &registry, &old).0, "503 Service Unavailable");
        assert_eq!(route("POST", "/metrics", &registry, &old).0, "405 Method Not Allowed");
    }
}

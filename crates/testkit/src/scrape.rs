//! Reading a process's `/metrics`, `/health` and `/ready` (`-metrics-addr`) as Prometheus and
//! a probe would: plain HTTP GET on the loopback, and the Prometheus text format parsed by a
//! parser of the format (`prometheus-parse`), not by string matching.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// `GET path` on `127.0.0.1:port`: (status, body), or `None` while nothing answers.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    Some((head.split(' ').nth(1)?.parse().ok()?, body.to_string()))
}

/// The value of the sample `name` whose labels include every one of `labels`, from
/// `/metrics` on `127.0.0.1:port`; `None` when there is no such sample (or no answer).
/// Panics if `/metrics` is not valid Prometheus text.
pub fn sample(port: u16, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let (code, body) = http_get(port, "/metrics")?;
    assert_eq!(code, 200, "/metrics: {body}");
    let lines = body.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text format");
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
}

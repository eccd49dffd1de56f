//! Helpers of the tests against real etcd: resources, the confd command line, waits on what
//! can be observed (dest files, reload markers, the log), and etcd's JSON gateway for fast
//! writes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use testkit::wait_until;

use super::{Daemon, Sandbox};

// ---------------------------------------------------------------------------------------------
// Helpers: resources, commands, observations.

/// A template listing every key `glob` matches as `key=value` lines.
pub fn listing_template(glob: &str) -> String {
    format!("{{{{range gets \"{glob}\"}}}}{{{{.Key}}}}={{{{.Value}}}}\n{{{{end}}}}")
}

/// What [`listing_template`] renders for `kvs` (in key order, as etcd and `gets` sort them).
pub fn listing(kvs: &[(String, String)]) -> String {
    kvs.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

pub fn kv(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

/// Writes resource `<name>.toml` (template `<name>.tmpl` = `template`) reading `keys`, rendering
/// to `out/<name>.conf`; each reload appends `<name>` to the file `marker`.
pub fn add_resource(sb: &Sandbox, name: &str, keys: &[&str], template: &str, marker: &str) {
    sb.template(&format!("{name}.tmpl"), template);
    let keys: Vec<String> = keys.iter().map(|k| format!("\"{k}\"")).collect();
    sb.resource(
        &format!("{name}.toml"),
        &format!(
            "[template]\nsrc = \"{name}.tmpl\"\ndest = \"{}\"\nkeys = [{}]\nreload_cmd = \"echo {name} >> {}\"\n",
            sb.p(&format!("out/{name}.conf")),
            keys.join(", "),
            sb.p(marker)
        ),
    );
}

/// `confd -backend <backend> -confdir <sandbox confdir> -node N... <extra>`.
pub fn confd_cmd(sb: &Sandbox, backend: &str, nodes: &[String], extra: &[&str]) -> Command {
    let mut args = vec!["-backend".to_string(), backend.to_string()];
    args.extend(["-confdir".to_string(), sb.p("confdir")]);
    for n in nodes {
        args.extend(["-node".to_string(), n.clone()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    sb.confd(&args)
}

/// The number of lines of `<sandbox>/<rel>` (0 if it does not exist): reloads run.
pub fn lines(sb: &Sandbox, rel: &str) -> usize {
    sb.try_read(rel).map_or(0, |s| s.lines().count())
}

/// How many times confd compared a rendered candidate with `dest`, i.e. rendered the resource
/// (the DEBUG line `Comparing candidate config to <dest>`; needs `-log-level debug`).
pub fn renders(daemon: &Daemon, dest: &Path) -> usize {
    let line = format!("Comparing candidate config to {}", dest.display());
    daemon.stderr().lines().filter(|l| l.ends_with(&line)).count()
}

/// The last lines of a log, for failure messages.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Where the daemon's etcd watch runs now, from its log (`Watching etcd at URL`, `Watch moved to
/// etcd at URL (why)`).
pub fn watched_endpoint(stderr: &str) -> Option<String> {
    stderr.lines().rev().find_map(|line| {
        ["Watching etcd at ", "Watch moved to etcd at "].iter().find_map(|tag| {
            let rest = &line[line.find(tag)? + tag.len()..];
            rest.split_whitespace().next().map(str::to_string)
        })
    })
}

/// A short description of how `got` differs from `want` (line sets), for big files.
pub fn diff_summary(got: Option<&str>, want: &str) -> String {
    let Some(got) = got else { return "file missing".into() };
    let g: std::collections::BTreeSet<&str> = got.lines().collect();
    let w: std::collections::BTreeSet<&str> = want.lines().collect();
    let missing: Vec<&&str> = w.difference(&g).take(10).collect();
    let extra: Vec<&&str> = g.difference(&w).take(10).collect();
    format!(
        "{} lines vs {} wanted; missing (first 10): {missing:?}; unexpected (first 10): {extra:?}",
        g.len(),
        w.len()
    )
}

/// Waits up to `within` until `<sandbox>/<rel>` reads exactly `want`; panics with the file and
/// the daemon's log otherwise.
pub fn wait_for_file(sb: &Sandbox, daemon: &mut Daemon, rel: &str, want: &str, within: Duration) {
    let ok = wait_until(within, || sb.try_read(rel).as_deref() == Some(want));
    if !ok {
        let got = sb.try_read(rel);
        let shown = if want.len() > 2000 {
            diff_summary(got.as_deref(), want)
        } else {
            format!("it is {got:?}, want {want:?}")
        };
        panic!(
            "{rel} did not reach the expected contents within {within:?}: {shown}\n(exited: {:?}); stderr tail:\n{}",
            daemon.try_status(),
            tail(&daemon.stderr(), 60)
        );
    }
}

/// Waits up to `within` until `<sandbox>/<rel>` has `want` lines, then checks there are not more.
pub fn wait_for_lines(sb: &Sandbox, daemon: &Daemon, rel: &str, want: usize, within: Duration) {
    let ok = wait_until(within, || lines(sb, rel) >= want);
    assert!(ok, "{rel}: {} line(s), want {want}; stderr:\n{}", lines(sb, rel), daemon.stderr());
    assert_eq!(lines(sb, rel), want, "{rel}: too many lines; stderr:\n{}", daemon.stderr());
}

/// The number of lines of `<sandbox>/<rel>` once it has not changed for `quiet` (a reload runs
/// just after its dest is replaced, so a count taken when dest looks final can be one short).
/// Panics if it keeps changing for 20 s.
pub fn settled_lines(sb: &Sandbox, rel: &str, quiet: Duration) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut last, mut since) = (lines(sb, rel), Instant::now());
    loop {
        std::thread::sleep(Duration::from_millis(20)); // polling
        let now = lines(sb, rel);
        if now != last {
            (last, since) = (now, Instant::now());
        } else if since.elapsed() >= quiet {
            return last;
        }
        assert!(Instant::now() < deadline, "{rel} keeps changing: {last} lines");
    }
}

/// The lines of a log at ERROR or FATAL level (their messages).
pub fn errors(stderr: &str) -> Vec<String> {
    let mut all = super::messages(stderr, "ERROR");
    all.extend(super::messages(stderr, "FATAL"));
    all
}

/// Distinct ERROR/FATAL messages (`-onetime` logs the last failure again as FATAL, as confd).
pub fn distinct_errors(stderr: &str) -> Vec<String> {
    let mut all = errors(stderr);
    all.sort();
    all.dedup();
    all
}

/// How long a batch takes at most with the default `-wait 200ms:1s`, plus a margin: the window
/// after which a change that was going to be rendered has been.
pub const BATCH_WINDOW: Duration = Duration::from_millis(1500);

/// A generous bound for things that need etcd to recover (a restarted member, a new leader).
pub const RECOVERY_TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 client for etcd's JSON gateway, on one keep-alive connection.

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

/// `POST /v3/kv/put` and `/v3/kv/deleterange` to one member's gateway.
pub struct Gateway {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
}

impl Gateway {
    pub fn new(endpoint: &str) -> Gateway {
        let hostport = endpoint.strip_prefix("http://").expect("a plain http:// endpoint");
        Gateway { addr: hostport.parse().expect("127.0.0.1:PORT"), conn: None }
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
        if self.conn.is_none() {
            let s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1))
                .map_err(|e| e.to_string())?;
            s.set_read_timeout(Some(Duration::from_secs(3))).map_err(|e| e.to_string())?;
            s.set_write_timeout(Some(Duration::from_secs(3))).map_err(|e| e.to_string())?;
            s.set_nodelay(true).map_err(|e| e.to_string())?;
            self.conn = Some(BufReader::new(s));
        }
        let conn = self.conn.as_mut().expect("connected above");
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
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
        let response = String::from_utf8_lossy(&response);
        if status.split_whitespace().nth(1) != Some("200") || response.contains("\"error\"") {
            return Err(format!("{}: {response}", status.trim()));
        }
        Ok(())
    }
}

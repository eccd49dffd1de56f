//! A small DNS client for SRV records, standing in for Go's resolver in `net.LookupSRV`.
//!
//! The name is `_service._proto.name` (or `name` alone when service and proto are empty).
//! Names to try follow Go: a name ending in `.` is tried alone; otherwise with the `search`
//! domains of `/etc/resolv.conf`, the bare name first when it has at least `ndots` dots. Each
//! name goes to each `nameserver` in turn (UDP, 2 s timeout, TCP when the answer is truncated;
//! default server 127.0.0.1:53). The first answer with SRV records wins; `NXDOMAIN` or an empty
//! answer moves to the next name; other failures to the next server. As in Go, a target that
//! is not a valid domain name makes the whole lookup fail, and every failure is an empty list.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use crate::funcs::Srv;

const TIMEOUT: Duration = Duration::from_secs(2);
const TYPE_SRV: u16 = 33;
const CLASS_IN: u16 = 1;

/// What `/etc/resolv.conf` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvConf {
    pub servers: Vec<SocketAddr>,
    pub search: Vec<String>,
    pub ndots: usize,
}

impl ResolvConf {
    pub fn parse(text: &str) -> ResolvConf {
        let mut conf = ResolvConf { servers: Vec::new(), search: Vec::new(), ndots: 1 };
        for line in text.lines() {
            let line = line.split(['#', ';']).next().unwrap_or("");
            let mut words = line.split_whitespace();
            match words.next() {
                Some("nameserver") => {
                    if let Some(ip) = words.next().and_then(|w| w.parse::<IpAddr>().ok()) {
                        conf.servers.push(SocketAddr::new(ip, 53));
                    }
                }
                Some("domain") => {
                    conf.search = words.next().map(|d| vec![d.to_string()]).unwrap_or_default()
                }
                Some("search") => conf.search = words.map(str::to_string).collect(),
                Some("options") => {
                    for opt in words {
                        if let Some(n) =
                            opt.strip_prefix("ndots:").and_then(|n| n.parse::<usize>().ok())
                        {
                            conf.ndots = n.min(15);
                        }
                    }
                }
                _ => {}
            }
        }
        if conf.servers.is_empty() {
            conf.servers.push(SocketAddr::from(([127, 0, 0, 1], 53)));
        }
        conf
    }

    /// The fully qualified names to try for `name`, in order (Go's `nameList`).
    pub fn names(&self, name: &str) -> Vec<String> {
        if name.ends_with('.') {
            return vec![name.to_string()];
        }
        let bare = format!("{name}.");
        let with_search =
            self.search.iter().map(|d| format!("{name}.{}.", d.trim_end_matches('.')));
        if name.matches('.').count() >= self.ndots {
            std::iter::once(bare).chain(with_search).collect()
        } else {
            with_search.chain(std::iter::once(bare)).collect()
        }
    }
}

/// `net.LookupSRV` through the nameservers of `/etc/resolv.conf`; any failure gives an empty
/// list.
pub fn lookup_srv(service: &str, proto: &str, name: &str) -> Vec<Srv> {
    let conf = ResolvConf::parse(&std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default());
    lookup_srv_with(&conf, service, proto, name)
}

/// `net.LookupSRV` with the given resolver configuration.
pub fn lookup_srv_with(conf: &ResolvConf, service: &str, proto: &str, name: &str) -> Vec<Srv> {
    let target = if service.is_empty() && proto.is_empty() {
        name.to_string()
    } else {
        format!("_{service}._{proto}.{name}")
    };
    for fqdn in conf.names(&target) {
        let Some(query) = build_query(&fqdn, query_id()) else { return Vec::new() };
        for server in &conf.servers {
            match exchange(*server, &query).and_then(|reply| parse_reply(&reply, &query)) {
                Some(Answer::Records(records)) => {
                    if records.iter().all(|r| is_domain_name(&r.target)) {
                        return records;
                    }
                    return Vec::new();
                }
                Some(Answer::NoSuchName) => break, // next name
                None => continue,                  // next server
            }
        }
    }
    Vec::new()
}

fn query_id() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish() as u16
}

/// A standard query (recursion desired) for the SRV records of `fqdn`.
pub fn build_query(fqdn: &str, id: u16) -> Option<Vec<u8>> {
    let mut q = Vec::with_capacity(fqdn.len() + 18);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; QDCOUNT=1
    for label in fqdn.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    if q.len() > 12 + 255 {
        return None;
    }
    q.extend_from_slice(&TYPE_SRV.to_be_bytes());
    q.extend_from_slice(&CLASS_IN.to_be_bytes());
    Some(q)
}

fn exchange(server: SocketAddr, query: &[u8]) -> Option<Vec<u8>> {
    let bind: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = UdpSocket::bind(bind).ok()?;
    sock.connect(server).ok()?;
    sock.send(query).ok()?;
    let mut buf = vec![0u8; 4096];
    let deadline = std::time::Instant::now() + TIMEOUT;
    let reply = loop {
        let left = deadline.checked_duration_since(std::time::Instant::now())?;
        sock.set_read_timeout(Some(left.max(Duration::from_millis(1)))).ok()?;
        let n = sock.recv(&mut buf).ok()?;
        // Ignore stray datagrams that do not answer our query.
        if n >= 12 && buf[..2] == query[..2] {
            break buf[..n].to_vec();
        }
    };
    if reply[2] & 0x02 == 0 {
        return Some(reply);
    }
    // Truncated: ask again over TCP.
    let mut tcp = TcpStream::connect_timeout(&server, TIMEOUT).ok()?;
    tcp.set_read_timeout(Some(TIMEOUT)).ok()?;
    tcp.set_write_timeout(Some(TIMEOUT)).ok()?;
    let mut msg = (query.len() as u16).to_be_bytes().to_vec();
    msg.extend_from_slice(query);
    tcp.write_all(&msg).ok()?;
    let mut len = [0u8; 2];
    tcp.read_exact(&mut len).ok()?;
    let mut reply = vec![0u8; usize::from(u16::from_be_bytes(len))];
    tcp.read_exact(&mut reply).ok()?;
    Some(reply)
}

#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    Records(Vec<Srv>),
    /// NXDOMAIN, or success without SRV records: try the next name.
    NoSuchName,
}

fn u16_at(m: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*m.get(at)?, *m.get(at + 1)?]))
}

/// Reads the (possibly compressed) name at `at`: its presentation form with a trailing dot
/// and the offset just after it in the message.
fn read_name(m: &[u8], mut at: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = *m.get(at)?;
        match len & 0xC0 {
            0x00 => {
                if len == 0 {
                    let after = end.unwrap_or(at + 1);
                    if name.is_empty() {
                        name.push('.');
                    }
                    return Some((name, after));
                }
                let label = m.get(at + 1..at + 1 + usize::from(len))?;
                name.push_str(&String::from_utf8_lossy(label));
                name.push('.');
                at += 1 + usize::from(len);
                if name.len() > 255 {
                    return None;
                }
            }
            0xC0 => {
                let ptr = usize::from(u16_at(m, at)? & 0x3FFF);
                end.get_or_insert(at + 2);
                jumps += 1;
                if jumps > 64 {
                    return None;
                }
                at = ptr;
            }
            _ => return None,
        }
    }
}

/// Checks a reply against its query and extracts the SRV records of the answer section.
pub fn parse_reply(m: &[u8], query: &[u8]) -> Option<Answer> {
    if m.len() < 12 || m[..2] != query[..2] || m[2] & 0x80 == 0 {
        return None;
    }
    match m[3] & 0x0F {
        0 => {}
        3 => return Some(Answer::NoSuchName),
        _ => return None,
    }
    let qdcount = u16_at(m, 4)?;
    let ancount = u16_at(m, 6)?;
    let mut at = 12;
    for _ in 0..qdcount {
        at = read_name(m, at)?.1 + 4;
    }
    let mut records = Vec::new();
    for _ in 0..ancount {
        let (_, after) = read_name(m, at)?;
        let rtype = u16_at(m, after)?;
        let class = u16_at(m, after + 2)?;
        let rdlen = usize::from(u16_at(m, after + 8)?);
        let rdata = after + 10;
        if m.len() < rdata + rdlen {
            return None;
        }
        if rtype == TYPE_SRV && class == CLASS_IN {
            let priority = u16_at(m, rdata)?;
            let weight = u16_at(m, rdata + 2)?;
            let port = u16_at(m, rdata + 4)?;
            let (target, _) = read_name(m, rdata + 6)?;
            records.push(Srv { target, port, priority, weight });
        }
        at = rdata + rdlen;
    }
    if records.is_empty() {
        return Some(Answer::NoSuchName);
    }
    Some(Answer::Records(records))
}

/// Go's `isDomainName`: presentation-format names of letters, digits, `-` and `_`.
pub fn is_domain_name(s: &str) -> bool {
    if s == "." {
        return true;
    }
    let b = s.as_bytes();
    let l = b.len();
    if l == 0 || l > 254 || (l == 254 && b[l - 1] != b'.') {
        return false;
    }
    let mut last = b'.';
    let mut non_numeric = false;
    let mut part = 0;
    for &c in b {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                non_numeric = true;
                part += 1;
            }
            b'0'..=b'9' => part += 1,
            b'-' => {
                if last == b'.' {
                    return false;
                }
                part += 1;
                non_numeric = true;
            }
            b'.' => {
                if last == b'.' || last == b'-' || part > 63 || part == 0 {
                    return false;
                }
                part = 0;
            }
            _ => return false,
        }
        last = c;
    }
    last != b'-' && part <= 63 && non_numeric
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_and_names() {
        let c = ResolvConf::parse("# x\nnameserver 10.0.0.2\nnameserver ::1\nsearch a.example b.example\noptions ndots:2\n");
        assert_eq!(
            c.servers,
            vec![SocketAddr::from(([10, 0, 0, 2], 53)), "[::1]:53".parse().unwrap()]
        );
        assert_eq!(c.names("x.y"), ["x.y.a.example.", "x.y.b.example.", "x.y."]);
        assert_eq!(c.names("x.y.z"), ["x.y.z.", "x.y.z.a.example.", "x.y.z.b.example."]);
        assert_eq!(c.names("x.y."), ["x.y."]);
        assert_eq!(ResolvConf::parse("").servers, vec![SocketAddr::from(([127, 0, 0, 1], 53))]);
    }

    #[test]
    fn parses_a_reply_with_compression() {
        let query = build_query("_http._tcp.example.com", 0x1234).unwrap();
        let mut m = query.clone();
        m[2] = 0x81; // response, RD
        m[3] = 0x80; // RA, NOERROR
        m[7] = 2; // ANCOUNT
        for (prio, weight, port, target) in
            [(10u16, 5u16, 80u16, &b"\x03web\xc0\x17"[..]), (20, 0, 8080, b"\x04web2\xc0\x17")]
        {
            m.extend_from_slice(&[0xC0, 12]); // name → the question
            m.extend_from_slice(&TYPE_SRV.to_be_bytes());
            m.extend_from_slice(&CLASS_IN.to_be_bytes());
            m.extend_from_slice(&[0, 0, 0, 60]);
            m.extend_from_slice(&((6 + target.len()) as u16).to_be_bytes());
            m.extend_from_slice(&prio.to_be_bytes());
            m.extend_from_slice(&weight.to_be_bytes());
            m.extend_from_slice(&port.to_be_bytes());
            m.extend_from_slice(target);
        }
        // Offset 0x17 (23) is "example.com" inside the question.
        assert_eq!(&m[23..24], b"\x07");
        let Some(Answer::Records(r)) = parse_reply(&m, &query) else { panic!("no records") };
        assert_eq!(
            r[0],
            Srv { target: "web.example.com.".into(), port: 80, priority: 10, weight: 5 }
        );
        assert_eq!(r[1].target, "web2.example.com.");
        let mut nx = query.clone();
        nx[2] = 0x81;
        nx[3] = 0x83;
        assert_eq!(parse_reply(&nx, &query), Some(Answer::NoSuchName));
    }

    #[test]
    fn domain_names() {
        assert!(is_domain_name("web.example.com."));
        assert!(is_domain_name("_sip._udp.example.com"));
        assert!(!is_domain_name("a..b"));
        assert!(!is_domain_name("-a.b"));
        assert!(!is_domain_name("1.2.3.4"));
        assert!(!is_domain_name("a b.c"));
    }
}

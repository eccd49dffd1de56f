//! `SystemHost` and its pieces: the DNS SRV client against a fake nameserver on localhost, zone
//! lookups against Go's answers, and the real environment, file system and clock.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::thread;

use confd_core::funcs::{Host, Srv};
use confd_core::host::dns::{self, ResolvConf};
use confd_core::host::{zone_for_tz, SystemHost};

// ---- DNS ---------------------------------------------------------------------------------

/// An SRV answer for `query` (our own query bytes) with the given records; `rcode` 3 is
/// NXDOMAIN; `truncated` sets TC.
fn reply(query: &[u8], rcode: u8, truncated: bool, records: &[(u16, u16, u16, &str)]) -> Vec<u8> {
    let mut m = query.to_vec();
    m[2] = 0x81 | if truncated { 0x02 } else { 0 };
    m[3] = 0x80 | rcode;
    m[6..8].copy_from_slice(&(records.len() as u16).to_be_bytes());
    for &(priority, weight, port, target) in records {
        m.extend_from_slice(&[0xC0, 12, 0, 33, 0, 1, 0, 0, 0, 60]);
        let mut rdata = Vec::new();
        for v in [priority, weight, port] {
            rdata.extend_from_slice(&v.to_be_bytes());
        }
        for label in target.trim_end_matches('.').split('.') {
            rdata.push(label.len() as u8);
            rdata.extend_from_slice(label.as_bytes());
        }
        rdata.push(0);
        m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        m.extend_from_slice(&rdata);
    }
    m
}

/// The question name of a query, dotted.
fn qname(q: &[u8]) -> String {
    let mut at = 12;
    let mut name = String::new();
    while q[at] != 0 {
        let len = q[at] as usize;
        name.push_str(std::str::from_utf8(&q[at + 1..at + 1 + len]).unwrap());
        name.push('.');
        at += 1 + len;
    }
    name
}

/// A nameserver on 127.0.0.1 that answers `queries` UDP queries with `answer(query)`.
fn fake_server(
    queries: usize,
    answer: fn(&[u8]) -> Vec<u8>,
) -> (SocketAddr, thread::JoinHandle<Vec<String>>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 512];
        for _ in 0..queries {
            let (n, from) = sock.recv_from(&mut buf).unwrap();
            seen.push(qname(&buf[..n]));
            sock.send_to(&answer(&buf[..n]), from).unwrap();
        }
        seen
    });
    (addr, handle)
}

fn conf(server: SocketAddr, search: &[&str]) -> ResolvConf {
    ResolvConf {
        servers: vec![server],
        search: search.iter().map(|s| s.to_string()).collect(),
        ndots: 1,
    }
}

#[test]
fn srv_lookup_over_udp() {
    let (addr, server) = fake_server(1, |q| {
        reply(q, 0, false, &[(10, 5, 80, "web1.example.com"), (20, 0, 8080, "web2.example.com")])
    });
    let got = dns::lookup_srv_with(&conf(addr, &[]), "http", "tcp", "example.com");
    assert_eq!(
        got,
        [
            Srv { target: "web1.example.com.".into(), port: 80, priority: 10, weight: 5 },
            Srv { target: "web2.example.com.".into(), port: 8080, priority: 20, weight: 0 },
        ]
    );
    assert_eq!(server.join().unwrap(), ["_http._tcp.example.com."]);
}

#[test]
fn srv_lookup_walks_the_search_list_after_nxdomain() {
    let (addr, server) = fake_server(2, |q| {
        if qname(q) == "_ldap._tcp.corp.example.org." {
            reply(q, 0, false, &[(0, 0, 389, "dc1.example.org")])
        } else {
            reply(q, 3, false, &[])
        }
    });
    // The name has at least ndots (1) dots, so it is tried bare first; NXDOMAIN moves on to
    // the search domain.
    let c = conf(addr, &["example.org"]);
    assert_eq!(c.names("_ldap._tcp.corp"), ["_ldap._tcp.corp.", "_ldap._tcp.corp.example.org."]);
    let got = dns::lookup_srv_with(&c, "ldap", "tcp", "corp");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].target, "dc1.example.org.");
    assert_eq!(server.join().unwrap(), ["_ldap._tcp.corp.", "_ldap._tcp.corp.example.org."]);
}

#[test]
fn srv_lookup_retries_over_tcp_when_truncated() {
    // Bind UDP and TCP on the same port.
    let (udp, tcp) = loop {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        if let Ok(tcp) = TcpListener::bind(udp.local_addr().unwrap()) {
            break (udp, tcp);
        }
    };
    let addr = udp.local_addr().unwrap();
    let server = thread::spawn(move || {
        use std::io::{Read, Write};
        let mut buf = [0u8; 512];
        let (n, from) = udp.recv_from(&mut buf).unwrap();
        udp.send_to(&reply(&buf[..n], 0, true, &[]), from).unwrap();
        let (mut conn, _) = tcp.accept().unwrap();
        let mut len = [0u8; 2];
        conn.read_exact(&mut len).unwrap();
        let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
        conn.read_exact(&mut q).unwrap();
        let r = reply(&q, 0, false, &[(1, 1, 443, "big.example.com")]);
        conn.write_all(&(r.len() as u16).to_be_bytes()).unwrap();
        conn.write_all(&r).unwrap();
    });
    let got = dns::lookup_srv_with(&conf(addr, &[]), "https", "tcp", "example.com");
    server.join().unwrap();
    assert_eq!(got, [Srv { target: "big.example.com.".into(), port: 443, priority: 1, weight: 1 }]);
}

#[test]
fn srv_lookup_failures_are_empty() {
    // A target that is not a domain name fails the whole lookup, as in Go.
    let (addr, server) = fake_server(1, |q| {
        reply(q, 0, false, &[(1, 1, 1, "ok.example.com"), (1, 1, 1, "bad!name.example.com")])
    });
    assert!(dns::lookup_srv_with(&conf(addr, &[]), "x", "tcp", "example.com.").is_empty());
    server.join().unwrap();
    // SERVFAIL from the only server.
    let (addr, server) = fake_server(1, |q| reply(q, 2, false, &[]));
    assert!(dns::lookup_srv_with(&conf(addr, &[]), "x", "tcp", "example.com.").is_empty());
    server.join().unwrap();
    // A name that cannot be sent.
    assert!(dns::lookup_srv_with(&conf(addr, &[]), "x", "tcp", "a..b.").is_empty());
}

// ---- zones -------------------------------------------------------------------------------

/// Go 1.19's `time.Unix(secs, 0).In(time.LoadLocation(zone)).Zone()` on this system's zone
/// files (2200000000 and 2215000000 lie after the files' last transition, in 2039/2040).
const GO_ZONES: &[(&str, i64, &str, i32)] = &[
    ("America/New_York", -5000000000, "LMT", -17762),
    ("America/New_York", 0, "EST", -18000),
    ("America/New_York", 1000000000, "EDT", -14400),
    ("America/New_York", 1700000000, "EST", -18000),
    ("America/New_York", 2200000000, "EDT", -14400),
    ("America/New_York", 2215000000, "EST", -18000),
    ("Europe/Berlin", 1690000000, "CEST", 7200),
    ("Europe/Berlin", 1795800932, "CET", 3600),
    ("Europe/Berlin", 2200000000, "CEST", 7200),
    ("Asia/Tokyo", 1795800932, "JST", 32400),
    ("Asia/Tokyo", 2215000000, "JST", 32400),
    ("Asia/Kolkata", 1795800932, "IST", 19800),
    ("Australia/Lord_Howe", 1000000000, "+1030", 37800),
    ("Australia/Lord_Howe", 1700000000, "+11", 39600),
    ("Australia/Lord_Howe", 2200000000, "+1030", 37800),
    ("Australia/Lord_Howe", 2215000000, "+11", 39600),
    ("Europe/London", 0, "BST", 3600),
    ("Europe/London", 2200000000, "BST", 3600),
    ("Europe/London", 2215000000, "GMT", 0),
    ("Etc/UTC", 1795800932, "UTC", 0),
    ("Etc/GMT+5", 2215000000, "-05", -18000),
    ("America/Sao_Paulo", 2200000000, "-03", -10800),
    ("Pacific/Chatham", 1700000000, "+1345", 49500),
    ("Pacific/Chatham", 2200000000, "+1245", 45900),
    ("Pacific/Chatham", 2215000000, "+1345", 49500),
];

#[test]
fn zones_match_go() {
    if !std::path::Path::new("/usr/share/zoneinfo/America/New_York").exists() {
        eprintln!("no zone database; skipped");
        return;
    }
    for &(name, secs, abbrev, offset) in GO_ZONES {
        let zone = zone_for_tz(Some(name)).unwrap_or_else(|| panic!("{name} not loaded"));
        assert_eq!(zone.lookup(secs), (abbrev.to_string(), offset), "{name} at {secs}");
    }
}

#[test]
fn tz_variable_forms() {
    assert!(zone_for_tz(Some("")).is_none()); // UTC
    assert!(zone_for_tz(Some("UTC")).is_none());
    assert!(zone_for_tz(Some("No/Such_Zone")).is_none());
    assert!(zone_for_tz(Some("../../etc/passwd")).is_none());
    if std::path::Path::new("/usr/share/zoneinfo/Asia/Tokyo").exists() {
        let by_name = zone_for_tz(Some(":Asia/Tokyo")).unwrap();
        let by_path = zone_for_tz(Some("/usr/share/zoneinfo/Asia/Tokyo")).unwrap();
        assert_eq!(by_name, by_path);
        assert_eq!(by_name.lookup(0), ("JST".to_string(), 9 * 3600));
    }
}

// ---- the rest of the system host ---------------------------------------------------------------

#[test]
fn system_host_environment_files_and_clock() {
    let host = SystemHost::new();
    assert_eq!(host.getenv("PATH"), std::env::var("PATH").ok());
    assert_eq!(host.getenv("CONFD_CORE_SURELY_UNSET_VARIABLE"), None);
    assert_eq!(host.getenv(""), None);
    assert_eq!(host.getenv("A=B"), None);
    assert!(host.file_exists("/"));
    assert!(host.file_exists(env!("CARGO_MANIFEST_DIR")));
    assert!(!host.file_exists("/surely/not/here"));
    assert!(!host.file_exists(""));

    let a = host.now();
    let b = host.now();
    let (ma, mb) = (a.monotonic_nanos.unwrap(), b.monotonic_nanos.unwrap());
    assert!(ma >= 1 && mb >= ma);
    assert!(a.unix_secs > 1_700_000_000 && a.nanos < 1_000_000_000);
}

#[test]
fn system_host_resolves_localhost() {
    let host = SystemHost::new();
    let ips = host.lookup_ip("localhost");
    if ips.is_empty() {
        eprintln!("localhost does not resolve here; skipped");
        return;
    }
    assert!(ips.iter().all(|ip| ip.is_loopback()), "{ips:?}");
    assert_eq!(host.lookup_ip("127.0.0.1"), ["127.0.0.1".parse::<std::net::IpAddr>().unwrap()]);
    assert!(host.lookup_ip("").is_empty());
}

//! Membership documents: what a *push* resource renders. Instead of a configuration file that a
//! server must reload, a push resource's template renders the complete set of peers of each
//! named group ("service"), which confd-rs validates here, writes to dest as JSON and pushes to
//! the server's live endpoint (docs/live-membership.md).
//!
//! # The rendered text
//!
//! One entry per line; blank lines and lines starting with `#` are ignored; fields are
//! separated by spaces or tabs.
//!
//! ```text
//! # service            declares a service (with no peers unless peer lines follow)
//! web
//! # service IP:PORT [weight=N]
//! web 10.0.0.5:8080
//! web 10.0.0.6:8080 weight=3
//! ```
//!
//! A peer line declares its service too. Peers keep the order of their lines; services are
//! sorted by name. Every rule is checked and any violation rejects the whole document with the
//! line that broke it, so that a template mistake never reaches the server half-applied: the
//! entries of the store are filtered before that, one by one, by the template's checking
//! functions (`token`, `ipAddr`).
//!
//! | part | rule |
//! |---|---|
//! | service | a bare token: letters, digits, `.`, `_`, `-`, not `.` or `..`, at most 128 bytes ([`MAX_SERVICES`] in all) |
//! | peer | `IP:PORT`: IPv4, or IPv6 in brackets; port 1–65535; no host names (the server connects without resolving) |
//! | weight | 1 to [`MAX_WEIGHT`]; default 1 |
//! | per service | at most [`MAX_PEERS`] peers, no `IP:PORT` twice |
//!
//! # JSON
//!
//! [`Membership::to_json`] is the file a server loads at start (dest); [`Membership::push_body`]
//! adds the version and the store revision for a push. Both are canonical (same membership,
//! same bytes), so an unchanged membership leaves dest unchanged and nothing is pushed. Every
//! string in them is a token or an IP literal, so nothing needs escaping.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::fmt::Write as _;

/// The most services a document may hold.
pub const MAX_SERVICES: usize = 10_000;
/// The most peers one service may have.
pub const MAX_PEERS: usize = 1024;
/// The largest weight of a peer.
pub const MAX_WEIGHT: u8 = 100;
/// The longest service name.
pub const MAX_SERVICE_NAME: usize = 128;

/// One peer of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// An IPv4 address or a bracketed IPv6 address.
    pub host: String,
    pub port: u16,
    pub weight: u8,
}

/// A validated membership: each service's peers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Membership {
    services: BTreeMap<String, Vec<Peer>>,
}

/// Why a rendered document is not a valid membership.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct MembershipError {
    /// 1-based line of the rendered text.
    pub line: usize,
    pub problem: Problem,
}

/// What was wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    #[error("the service name {0:?} is not a bare name (letters, digits, '.', '_', '-'; at most 128 bytes)")]
    ServiceName(String),
    #[error("the peer {peer:?} is not IP:PORT: {why}")]
    Peer { peer: String, why: confd_values::Invalid },
    #[error("{0:?} is not weight=N with N from 1 to 100")]
    Weight(String),
    #[error("expected SERVICE [IP:PORT [weight=N]], found {0} fields")]
    Fields(usize),
    #[error("service {service} lists {peer} twice")]
    Duplicate { service: String, peer: String },
    #[error("service {0} has more than 1024 peers")]
    TooManyPeers(String),
    #[error("more than 10000 services")]
    TooManyServices,
}

impl Membership {
    /// Parses and validates a rendered membership document.
    pub fn parse(text: &str) -> Result<Membership, MembershipError> {
        let mut services: BTreeMap<String, Vec<Peer>> = BTreeMap::new();
        let mut seen: HashSet<(String, String, u16)> = HashSet::new();
        for (index, line) in text.lines().enumerate() {
            let fail = |problem| MembershipError { line: index + 1, problem };
            let fields: Vec<&str> = line.split([' ', '\t']).filter(|f| !f.is_empty()).collect();
            let Some((&service, rest)) = fields.split_first() else { continue };
            if service.starts_with('#') {
                continue;
            }
            check_service(service).map_err(fail)?;
            if !services.contains_key(service) && services.len() == MAX_SERVICES {
                return Err(fail(Problem::TooManyServices));
            }
            let peers = services.entry(service.to_string()).or_default();
            let peer = match rest {
                [] => continue,
                [addr] => peer(addr, None),
                [addr, weight] => peer(addr, Some(weight)),
                _ => Err(Problem::Fields(fields.len())),
            }
            .map_err(fail)?;
            if !seen.insert((service.to_string(), peer.host.clone(), peer.port)) {
                let peer = rest[0].to_string();
                return Err(fail(Problem::Duplicate { service: service.to_string(), peer }));
            }
            if peers.len() == MAX_PEERS {
                return Err(fail(Problem::TooManyPeers(service.to_string())));
            }
            peers.push(peer);
        }
        Ok(Membership { services })
    }

    /// The services, by name, with their peers.
    pub fn services(&self) -> &BTreeMap<String, Vec<Peer>> {
        &self.services
    }

    /// How many peers all services have together.
    pub fn peer_count(&self) -> usize {
        self.services.values().map(Vec::len).sum()
    }

    /// The snapshot file a server loads at start: `{"services":{"web":[{"host":…,"port":…,
    /// "weight":…}],…}}`.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        self.write_services(&mut out);
        out.push_str("}\n");
        out
    }

    /// The body of a push: the snapshot with its `version` (each push's is higher than the
    /// last the server accepted) and the store `revision` it was read at (0: unknown).
    pub fn push_body(&self, version: u64, revision: u64) -> String {
        let mut out = format!("{{\"version\":{version},\"revision\":{revision},");
        self.write_services(&mut out);
        out.push('}');
        out
    }

    fn write_services(&self, out: &mut String) {
        out.push_str("\"services\":{");
        for (i, (name, peers)) in self.services.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "\"{name}\":[");
            for (j, p) in peers.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                let _ = write!(
                    out,
                    "{{\"host\":\"{}\",\"port\":{},\"weight\":{}}}",
                    p.host, p.port, p.weight
                );
            }
            out.push(']');
        }
        out.push('}');
    }
}

impl fmt::Display for Membership {
    /// `N services, M peers`, for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} services, {} peers", self.services.len(), self.peer_count())
    }
}

fn check_service(name: &str) -> Result<(), Problem> {
    if name.len() <= MAX_SERVICE_NAME && confd_values::segment(name).is_ok() {
        Ok(())
    } else {
        Err(Problem::ServiceName(name.to_string()))
    }
}

fn peer(addr: &str, weight: Option<&&str>) -> Result<Peer, Problem> {
    let (host, port) = confd_values::ip_address(addr)
        .map_err(|why| Problem::Peer { peer: addr.to_string(), why })?;
    let weight = match weight {
        None => 1,
        Some(w) => w
            .strip_prefix("weight=")
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|n| (1..=MAX_WEIGHT).contains(n))
            .ok_or_else(|| Problem::Weight(w.to_string()))?,
    };
    Ok(Peer { host: host.to_string(), port, weight })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_services_and_peers_in_canonical_json() {
        let text = "# comment\n\nweb\nweb 10.0.0.5:8080\n  web\t10.0.0.6:8080 weight=3 \napi\n\
                    db [::1]:5432\n";
        let m = Membership::parse(text).unwrap();
        assert_eq!(m.to_string(), "3 services, 3 peers");
        assert_eq!(
            m.to_json(),
            "{\"services\":{\"api\":[],\"db\":[{\"host\":\"[::1]\",\"port\":5432,\"weight\":1}],\
             \"web\":[{\"host\":\"10.0.0.5\",\"port\":8080,\"weight\":1},\
             {\"host\":\"10.0.0.6\",\"port\":8080,\"weight\":3}]}}\n"
        );
        assert_eq!(
            Membership::parse("web 1.2.3.4:80").unwrap().push_body(7, 1234),
            "{\"version\":7,\"revision\":1234,\"services\":{\"web\":[{\"host\":\"1.2.3.4\",\
             \"port\":80,\"weight\":1}]}}"
        );
        assert_eq!(Membership::parse("").unwrap().to_json(), "{\"services\":{}}\n");
    }

    #[test]
    fn every_bad_line_is_named() {
        let cases: &[(&str, usize, &str)] = &[
            ("web\nw\"eb 1.2.3.4:80", 2, "service name"),
            ("web evil.example:80", 1, "a name; an IP address is needed"),
            ("web 1.2.3.4:0", 1, "port"),
            ("web 1.2.3.4", 1, "HOST:PORT"),
            ("web ::1:80", 1, "brackets"),
            ("web 1.2.3.4:80 weight=0", 1, "weight=N"),
            ("web 1.2.3.4:80 weight=101", 1, "weight=N"),
            ("web 1.2.3.4:80 weight=+5", 1, "weight=N"),
            ("web 1.2.3.4:80 backup", 1, "weight=N"),
            ("web 1.2.3.4:80 weight=1 x", 1, "found 4 fields"),
            ("web 1.2.3.4:80\nweb 1.2.3.4:80", 2, "twice"),
            ("..", 1, "service name"),
            ("web 1.2.3.4:80;", 1, "port"),
        ];
        for (text, line, needle) in cases {
            let e = Membership::parse(text).unwrap_err();
            assert_eq!(e.line, *line, "{text:?}");
            assert!(e.to_string().contains(needle), "{text:?}: {e}");
        }
        let long = "a".repeat(MAX_SERVICE_NAME + 1);
        assert!(Membership::parse(&long).is_err());
        assert!(Membership::parse(&"a".repeat(MAX_SERVICE_NAME)).is_ok());
    }

    #[test]
    fn limits_are_enforced() {
        let peers: String =
            (0..=MAX_PEERS).map(|i| format!("web 10.0.{}.{}:80\n", i / 256, i % 256)).collect();
        let e = Membership::parse(&peers).unwrap_err();
        assert_eq!(e.line, MAX_PEERS + 1);
        assert_eq!(e.problem, Problem::TooManyPeers("web".into()));
        let services: String = (0..=MAX_SERVICES).map(|i| format!("s{i}\n")).collect();
        let e = Membership::parse(&services).unwrap_err();
        assert_eq!(e.problem, Problem::TooManyServices);
        // The same service named again is no new service.
        let again: String = (0..MAX_SERVICES * 2).map(|i| format!("s{}\n", i % 10)).collect();
        assert_eq!(Membership::parse(&again).unwrap().services().len(), 10);
    }

    #[test]
    fn same_peer_in_two_services_is_fine() {
        let m = Membership::parse("a 1.2.3.4:80\nb 1.2.3.4:80").unwrap();
        assert_eq!(m.peer_count(), 2);
    }
}

//! What a value stored in the key store may be where configuration files use it: a key
//! segment (a service or instance name), a port, a host, a `host:port` address, a DNS name, a
//! server name. One definition for both sides: `confd-register` refuses to write anything
//! else, and confd's template functions (`addr`, `serverNames`, `token`) leave out anything
//! else that someone wrote by other means. So what the agent registers always renders.
//!
//! Every check is pure and returns a typed reason; its `Display` is the text the agent prints.
#![forbid(unsafe_code)]

use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a value is not valid where it is to be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Invalid {
    #[error("empty path segment (//)")]
    EmptySegment,
    #[error("path segment {0:?} is not allowed")]
    DotSegment(String),
    #[error("{0:?} is not allowed (use letters, digits, '.', '_', '-')")]
    SegmentChar(char),
    #[error("the port {0:?} is not a number from 1 to 65535")]
    Port(String),
    #[error("the host {0:?} is not an IPv6 address")]
    Ipv6(String),
    #[error("an IPv6 address goes in brackets: [fd00::5]:8080")]
    Ipv6WithoutBrackets,
    #[error("the host {host:?} is not an IP address or host name: {why}")]
    Host { host: String, why: Box<Invalid> },
    #[error("it is empty")]
    EmptyName,
    #[error("longer than 253 characters")]
    NameTooLong,
    #[error("empty label (..)")]
    EmptyLabel,
    #[error("the label {0:?} is longer than 63 characters")]
    LabelTooLong(String),
    #[error("{0:?} is not allowed (letters, digits, '-' and '.' only)")]
    NameChar(char),
    #[error("the label {0:?} starts or ends with '-'")]
    LabelHyphen(String),
    #[error("the last label is all digits")]
    AllDigitLabel,
    #[error("expected HOST:PORT, e.g. 10.0.0.5:8080")]
    NoPort,
    #[error("the host {0:?} is a name; an IP address is needed here")]
    NotIp(String),
}

/// A key segment: a service name or an instance id. Letters, digits, `.`, `_`, `-`; not
/// empty, not `.` or `..`.
pub fn segment(seg: &str) -> Result<(), Invalid> {
    if seg.is_empty() {
        return Err(Invalid::EmptySegment);
    }
    if seg == "." || seg == ".." {
        return Err(Invalid::DotSegment(seg.to_string()));
    }
    match seg.chars().find(|c| !is_segment_char(*c)) {
        Some(c) => Err(Invalid::SegmentChar(c)),
        None => Ok(()),
    }
}

/// The characters of a key segment.
pub fn is_segment_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// A port: decimal digits, 1 to 65535.
pub fn port_number(port: &str) -> Result<u16, Invalid> {
    match port.parse::<u16>() {
        Ok(p) if p > 0 && port.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ => Err(Invalid::Port(port.to_string())),
    }
}

/// An IPv4 address, `[IPv6]`, or a DNS host name ([`dns_name`]).
pub fn host_name(host: &str) -> Result<(), Invalid> {
    if let Some(inner) = host.strip_prefix('[') {
        return match inner.strip_suffix(']').map(|i| i.parse::<Ipv6Addr>()) {
            Some(Ok(_)) => Ok(()),
            _ => Err(Invalid::Ipv6(host.to_string())),
        };
    }
    if host.contains(':') {
        return Err(Invalid::Ipv6WithoutBrackets);
    }
    if host.parse::<Ipv4Addr>().is_ok() {
        return Ok(());
    }
    dns_name(host).map_err(|why| Invalid::Host { host: host.to_string(), why: Box::new(why) })
}

/// Whether `host` (as [`host_name`] accepts it) is an IP address rather than a name.
pub fn is_ip_literal(host: &str) -> bool {
    host.starts_with('[') || host.parse::<Ipv4Addr>().is_ok()
}

/// `HOST:PORT`: a [`host_name`] and a [`port_number`]. Returns the host.
pub fn address(addr: &str) -> Result<&str, Invalid> {
    let (host, port) = addr.rsplit_once(':').ok_or(Invalid::NoPort)?;
    port_number(port)?;
    host_name(host)?;
    Ok(host)
}

/// `IP:PORT`: an IPv4 address or a bracketed IPv6 address, and a [`port_number`]. Returns
/// the host (IPv6 still bracketed, as nginx's balancer takes it) and the port. For peers a
/// server connects to without resolving names (nginx's Lua balancer).
pub fn ip_address(addr: &str) -> Result<(&str, u16), Invalid> {
    let (host, port) = addr.rsplit_once(':').ok_or(Invalid::NoPort)?;
    let port = port_number(port)?;
    host_name(host)?;
    if !is_ip_literal(host) {
        return Err(Invalid::NotIp(host.to_string()));
    }
    Ok((host, port))
}

/// A DNS name: labels of letters, digits and `-` (not at either end), 1–63 characters each,
/// 253 in all; the last label not all digits (so `999.1.1.1` is no host name).
pub fn dns_name(name: &str) -> Result<(), Invalid> {
    if name.is_empty() {
        return Err(Invalid::EmptyName);
    }
    if name.len() > 253 {
        return Err(Invalid::NameTooLong);
    }
    let labels: Vec<&str> = name.split('.').collect();
    for label in &labels {
        if label.is_empty() {
            return Err(Invalid::EmptyLabel);
        }
        if label.len() > 63 {
            return Err(Invalid::LabelTooLong(label.to_string()));
        }
        if let Some(c) = label.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-')) {
            return Err(Invalid::NameChar(c));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(Invalid::LabelHyphen(label.to_string()));
        }
    }
    if labels.last().is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit())) {
        return Err(Invalid::AllDigitLabel);
    }
    Ok(())
}

/// An nginx server name without regular expressions: a [`dns_name`], optionally with a
/// leading `*.` or `.`, or a trailing `.*`.
pub fn server_name(name: &str) -> Result<(), Invalid> {
    let bare = name
        .strip_prefix("*.")
        .or_else(|| name.strip_prefix('.'))
        .or_else(|| name.strip_suffix(".*"))
        .unwrap_or(name);
    dns_name(bare)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for ok in ["127.0.0.1:8080", "10.0.0.1:1", "[::1]:80", "[fe80::1]:65535", "web-1:80"] {
            assert!(address(ok).is_ok(), "{ok}");
        }
        let bad = [
            "",
            "127.0.0.1",
            "127.0.0.1:",
            "127.0.0.1:0",
            "127.0.0.1:65536",
            "127.0.0.1:+80",
            ":80",
            "999.1.1.1:80",
            "::1:80",
            "[::1]80",
            "[zz]:80",
            "127.0.0.1:8081; } server { listen 80; }",
            "127.0.0.1:80 backup",
            "127.0.0.1:80\n",
            "a..b:80",
            "-a:80",
            "a_b:80",
            "a$b:80",
            "unix:/tmp/x.sock",
            "h\u{fffd}:80",
        ];
        for bad in bad {
            assert!(address(bad).is_err(), "{bad:?}");
        }
        assert!(address(&format!("{}:80", "a".repeat(64))).is_err());
    }

    #[test]
    fn ip_addresses() {
        assert_eq!(ip_address("127.0.0.1:8080"), Ok(("127.0.0.1", 8080)));
        assert_eq!(ip_address("[::1]:80"), Ok(("[::1]", 80)));
        assert_eq!(ip_address("web-1:80"), Err(Invalid::NotIp("web-1".into())));
        for bad in ["127.0.0.1", "::1:80", "01.2.3.4:80", "1.2.3.4:0", "[::1]:80 down"] {
            assert!(ip_address(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn server_names() {
        for ok in ["a.example.com", "*.b.example", ".c.example", "d.*", "localhost"] {
            assert_eq!(server_name(ok), Ok(()), "{ok}");
        }
        for bad in ["", "a.com;", "a.com}", "#x", "~^re$", "a_b.com", "*", "a.*.com", "$host"] {
            assert!(server_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn segments() {
        for ok in ["web", "svc_1", "a.b-c", "-x", ".x", "..."] {
            assert_eq!(segment(ok), Ok(()), "{ok}");
        }
        for bad in ["", ".", "..", "*", "[", "a b", "a;", "a{", "a/b", "é", "a\n", "$x"] {
            assert!(segment(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn messages_name_the_reason() {
        assert_eq!(
            host_name("a_b").unwrap_err().to_string(),
            "the host \"a_b\" is not an IP address or host name: '_' is not allowed (letters, digits, '-' and '.' only)"
        );
        assert_eq!(
            port_number("0").unwrap_err().to_string(),
            "the port \"0\" is not a number from 1 to 65535"
        );
    }
}

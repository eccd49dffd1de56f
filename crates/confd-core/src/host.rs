//! [`SystemHost`]: the real [`Host`] — environment, resolver, file system and clock of this
//! machine.
//!
//! - `lookup_ip` uses the system resolver (`getaddrinfo` through `ToSocketAddrs`).
//! - `lookup_srv` sends its own DNS query (UDP, then TCP if the answer is truncated) to the
//!   nameservers of `/etc/resolv.conf`, 2 s per server, trying the name as Go does with the
//!   `search` domains and `ndots`; see [`dns`].
//! - `now` reads `SystemTime` for the wall clock and an `Instant` taken when the host was first
//!   used for the monotonic reading (Go measures from process start). The zone is Go's
//!   `time.Local`: `TZ` unset → `/etc/localtime`; `TZ=""` or `UTC` → UTC; `TZ=Name` or
//!   `TZ=:Name` → `/usr/share/zoneinfo/Name`; `TZ=/path` → that file; anything unreadable →
//!   UTC. Zone files are read with [`tzif`] (no zone database is bundled).

use std::net::{IpAddr, ToSocketAddrs};
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::funcs::{Host, Now, Srv};

pub mod dns;
pub mod tzif;

/// The machine's environment, resolver, file system and clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemHost;

fn process_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

impl SystemHost {
    /// A host; its monotonic clock starts at the first `SystemHost::new` (or first `now`).
    pub fn new() -> SystemHost {
        process_start();
        SystemHost
    }
}

impl Host for SystemHost {
    fn getenv(&self, name: &str) -> Option<String> {
        if name.is_empty() || name.contains(['=', '\0']) {
            return None;
        }
        std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
    }

    fn lookup_ip(&self, host: &str) -> Vec<IpAddr> {
        if host.is_empty() {
            return Vec::new();
        }
        match (host, 0u16).to_socket_addrs() {
            Ok(addrs) => {
                let mut ips: Vec<IpAddr> = Vec::new();
                for a in addrs {
                    if !ips.contains(&a.ip()) {
                        ips.push(a.ip());
                    }
                }
                ips
            }
            Err(_) => Vec::new(),
        }
    }

    fn lookup_srv(&self, service: &str, proto: &str, name: &str) -> Vec<Srv> {
        dns::lookup_srv(service, proto, name)
    }

    fn file_exists(&self, path: &str) -> bool {
        match std::fs::metadata(path) {
            Ok(_) => true,
            Err(e) => e.kind() != std::io::ErrorKind::NotFound,
        }
    }

    fn now(&self) -> Now {
        let start = process_start();
        let wall = SystemTime::now();
        let mono = start.elapsed();
        let (unix_secs, nanos) = match wall.duration_since(UNIX_EPOCH) {
            Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
            Err(e) => {
                let d = e.duration();
                let (s, n) = (d.as_secs() as i64, d.subsec_nanos());
                if n == 0 {
                    (-s, 0)
                } else {
                    (-s - 1, 1_000_000_000 - n)
                }
            }
        };
        let (zone, offset_secs) = local_zone(unix_secs);
        // Go's monotonic readings are at least 1ns after process start.
        let mono = i64::try_from(mono.as_nanos()).unwrap_or(i64::MAX).max(1);
        Now { unix_secs, nanos, offset_secs, zone, monotonic_nanos: Some(mono) }
    }
}

/// The abbreviation and offset of Go's `time.Local` at `unix_secs`.
fn local_zone(unix_secs: i64) -> (String, i32) {
    static ZONE: OnceLock<Option<tzif::Zone>> = OnceLock::new();
    let zone = ZONE.get_or_init(|| {
        let tz = std::env::var_os("TZ").map(|v| v.to_string_lossy().into_owned());
        zone_for_tz(tz.as_deref())
    });
    match zone {
        Some(z) => z.lookup(unix_secs),
        None => ("UTC".to_string(), 0),
    }
}

/// Go's `initLocal`: the zone that `TZ` (`None` = unset) selects, read from the system's zone
/// files; `None` means UTC.
pub fn zone_for_tz(tz: Option<&str>) -> Option<tzif::Zone> {
    let read = |path: &str| std::fs::read(path).ok().and_then(|data| tzif::Zone::parse(&data));
    match tz {
        None => read("/etc/localtime"),
        Some(tz) => {
            let tz = tz.strip_prefix(':').unwrap_or(tz);
            if tz.starts_with('/') {
                read(tz)
            } else if tz.is_empty() || tz == "UTC" || tz.split('/').any(|p| p == "..") {
                None
            } else {
                ["/usr/share/zoneinfo/", "/usr/share/lib/zoneinfo/", "/usr/lib/locale/TZ/"]
                    .iter()
                    .find_map(|dir| read(&format!("{dir}{tz}")))
            }
        }
    }
}

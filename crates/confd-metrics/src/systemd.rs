//! The systemd notification protocol (`sd_notify`), for `Type=notify` units: a datagram of
//! `KEY=VALUE` lines to the unix socket named by `$NOTIFY_SOCKET` (a path, or an abstract
//! name when it starts with `@`). Without `$NOTIFY_SOCKET` every call does nothing, so the
//! binaries call it unconditionally.
//!
//! - `READY=1` once the service does its job (confd: the first full render);
//! - `WATCHDOG=1` at least every half of `$WATCHDOG_USEC` (`WatchdogSec=`) while the main loop
//!   runs — [`Watchdog::due`] says when;
//! - `STOPPING=1` when it begins to stop.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// Sends `state` to systemd, if it listens. Errors are returned for the caller to log once.
pub fn notify(state: &str) -> io::Result<()> {
    let Some(socket) = std::env::var_os("NOTIFY_SOCKET") else { return Ok(()) };
    let socket = socket.to_string_lossy().into_owned();
    let sender = UnixDatagram::unbound()?;
    match socket.strip_prefix('@') {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
            sender.send_to_addr(state.as_bytes(), &addr)?;
        }
        None => {
            sender.send_to(state.as_bytes(), &socket)?;
        }
    }
    Ok(())
}

/// The watchdog interval systemd asked for (`$WATCHDOG_USEC`, for this process when
/// `$WATCHDOG_PID` says so), if any.
pub fn watchdog_interval() -> Option<Duration> {
    if let Some(pid) = std::env::var_os("WATCHDOG_PID") {
        if pid.to_string_lossy().parse::<u32>().ok() != Some(std::process::id()) {
            return None;
        }
    }
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_socket_nothing_is_sent() {
        // NOTIFY_SOCKET is not set for cargo's test processes.
        if std::env::var_os("NOTIFY_SOCKET").is_none() {
            assert!(notify("READY=1").is_ok());
        }
    }
}

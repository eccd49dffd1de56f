//! systemd's notification protocol, on a `NOTIFY_SOCKET` of the test's own: `READY=1` after
//! the first render and not before (etcd does not answer at first), `WATCHDOG=1` while the
//! loop runs when `WATCHDOG_USEC` asks for it, `STOPPING=1` on SIGTERM. Real etcd.

mod common;

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use common::etcd::*;
use common::{Sandbox, EVENT_TIMEOUT};
use testkit::EtcdCluster;

/// Every message that arrived within `within`.
fn messages(socket: &UnixDatagram, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        socket.set_read_timeout(Some(left.max(Duration::from_millis(1)))).unwrap();
        match socket.recv(&mut buf) {
            Ok(n) => got.push(String::from_utf8_lossy(&buf[..n]).into_owned()),
            Err(_) => break,
        }
    }
    got
}

#[test]
fn ready_after_the_first_render_watchdog_while_running_stopping_on_sigterm() {
    let cluster = EtcdCluster::start(1);
    cluster.put("/upstream/a", "1");
    let sb = Sandbox::new();
    add_resource(&sb, "up", &["/upstream"], &listing_template("/upstream/*"), "up.reloads");
    let path = sb.path("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();

    cluster.member(0).pause();
    let mut cmd = confd_cmd(&sb, "etcdv3", &cluster.endpoints(), &["-watch"]);
    cmd.env("NOTIFY_SOCKET", &path).env("WATCHDOG_USEC", "3000000");
    let mut confd = sb.spawn(cmd);
    // etcd hung: alive (watchdog pings), not ready.
    let early = messages(&socket, Duration::from_secs(3));
    assert!(early.iter().any(|m| m == "WATCHDOG=1"), "{early:?}\n{}", confd.stderr());
    assert!(!early.iter().any(|m| m == "READY=1"), "ready before rendering: {early:?}");
    assert!(!sb.exists("out/up.conf"));

    cluster.member(0).resume();
    let mut seen = Vec::new();
    let ready = common::wait_until(EVENT_TIMEOUT, || {
        seen.extend(messages(&socket, Duration::from_millis(200)));
        seen.iter().any(|m| m == "READY=1")
    });
    assert!(ready, "no READY=1: {seen:?}\n{}", confd.stderr());
    assert_eq!(sb.read("out/up.conf"), "/upstream/a=1\n", "READY=1 came before the render");
    assert_eq!(seen.iter().filter(|m| *m == "READY=1").count(), 1);

    confd.signal("TERM");
    confd.wait_exit(Duration::from_secs(10)).expect("confd exits on SIGTERM");
    let last = messages(&socket, Duration::from_millis(500));
    assert!(last.iter().any(|m| m == "STOPPING=1"), "{last:?}");
}

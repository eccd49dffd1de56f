//! `-metrics-addr`: `/metrics` read by a Prometheus text parser, counters moving by exactly the
//! renders and reloads that happened; `/health` while the loop runs; `/ready` 503 while etcd
//! does not answer at start, 200 after the first render. Real etcd and the real binary.

mod common;

use std::time::Duration;

use common::etcd::*;
use common::{Sandbox, EVENT_TIMEOUT};
use testkit::scrape::{http_get as get, sample};
use testkit::{free_port, wait_until, EtcdCluster};

#[test]
fn metrics_count_what_happened_and_ready_follows_the_first_render() {
    let cluster = EtcdCluster::start(1);
    cluster.put("/upstream/a", "1");
    let sb = Sandbox::new();
    add_resource(&sb, "up", &["/upstream"], &listing_template("/upstream/*"), "up.reloads");
    let res = sb.p("confdir/conf.d/up.toml");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");

    // etcd does not answer (SIGSTOP) when confd starts: alive, not ready.
    cluster.member(0).pause();
    let confd = sb.spawn(confd_cmd(
        &sb,
        "etcdv3",
        &cluster.endpoints(),
        &["-watch", "-metrics-addr", &addr],
    ));
    assert!(wait_until(EVENT_TIMEOUT, || get(port, "/health").is_some()), "{}", confd.stderr());
    assert_eq!(get(port, "/health").unwrap().0, 200);
    std::thread::sleep(Duration::from_secs(1));
    let (code, why) = get(port, "/ready").unwrap();
    assert_eq!(code, 503, "{why}");
    assert!(why.contains("rendered yet"), "{why}");

    // etcd back: the first render makes it ready.
    cluster.member(0).resume();
    assert!(
        wait_until(EVENT_TIMEOUT, || get(port, "/ready").is_some_and(|(c, _)| c == 200)),
        "{}",
        confd.stderr()
    );
    let updated = [("resource", res.as_str()), ("outcome", "updated")];
    let ok = [("resource", res.as_str()), ("outcome", "ok")];
    assert_eq!(sample(port, "confd_renders_total", &updated), Some(1.0));
    assert_eq!(sample(port, "confd_reloads_total", &ok), Some(1.0));
    assert_eq!(sample(port, "confd_store_up", &[]), Some(1.0));

    // Each change: exactly one more render and one more reload.
    for (i, value) in ["2", "3"].iter().enumerate() {
        cluster.put("/upstream/a", value);
        wait_for_lines(&sb, &confd, "up.reloads", i + 2, EVENT_TIMEOUT);
        let want = (i + 2) as f64;
        assert!(
            wait_until(EVENT_TIMEOUT, || sample(port, "confd_reloads_total", &ok) == Some(want)),
            "reloads"
        );
        assert_eq!(sample(port, "confd_renders_total", &updated), Some(want));
    }
    let revision = cluster.ctl().ok(&["get", "/upstream/a", "-w", "json"]);
    let revision: f64 = revision
        .split("\"revision\":")
        .nth(1)
        .and_then(|r| r.split([',', '}']).next())
        .and_then(|r| r.parse().ok())
        .unwrap();
    assert_eq!(sample(port, "confd_store_revision", &[]), Some(revision));
    // A key confd does not watch changes: nothing to apply, and confd still knows it is
    // caught up to etcd's revision (progress notifications).
    cluster.put("/elsewhere/x", "1");
    let now = cluster.revision() as f64;
    let synced = || sample(port, "confd_store_synced_revision", &[]);
    assert!(
        wait_until(EVENT_TIMEOUT, || synced() == Some(now)),
        "synced {:?}, etcd at {now}",
        synced()
    );
    assert_eq!(sample(port, "confd_store_revision", &[]), Some(revision));
    assert_eq!(sample(port, "confd_check_failures_total", &[("resource", res.as_str())]), None);
    let last = sample(port, "confd_last_success_timestamp_seconds", &[("resource", res.as_str())]);
    assert!(last.is_some_and(|t| t > 1.7e9), "{last:?}");
}

#[test]
fn a_port_that_cannot_be_bound_is_a_fatal_error() {
    let sb = Sandbox::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let done = sb.run_confd(&["-onetime", "-backend", "env", "-metrics-addr", &addr]);
    done.assert_code(1);
    done.assert_logged("FATAL", &["-metrics-addr", &addr, "cannot listen"]);
}

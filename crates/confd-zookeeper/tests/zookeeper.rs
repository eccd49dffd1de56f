//! confd-zookeeper against a real ZooKeeper (Debian `zookeeper` 3.8, standalone, loopback):
//! confd's reads of its integration data set, the watch and its reports across a restart, a
//! wiped store, a server that is down at start, and a hung server.

use std::collections::BTreeMap;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use confd_backend::notify::Notice;
use confd_zookeeper::{Zookeeper, ZookeeperConfig};
use testkit::zookeeper::ZookeeperServer;

/// How long a report may take: an upper bound only (the machine is small and shared, and a
/// watch retrying an absent server waits up to 5 s between attempts).
const NOTICE_WITHIN: Duration = Duration::from_secs(10);

fn client(server: &ZookeeperServer) -> Zookeeper {
    Zookeeper::new(ZookeeperConfig { nodes: vec![server.addr()] }).expect("valid node")
}

fn keys(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// confd's integration data set (`integration/zookeeper/test.sh`), as nodes.
fn load_confd_data(server: &ZookeeperServer) {
    for (path, value) in testkit::CONFD_DATA_SET {
        server.create(path, value);
    }
}

/// The next notice, failing the test if none comes within `within`.
fn next(rx: &Receiver<Notice>, within: Duration) -> Notice {
    rx.recv_timeout(within).unwrap_or_else(|e| panic!("no notice within {within:?}: {e}"))
}

/// Waits for a notice that `want` accepts, skipping others (repeated `Changed`).
fn wait_for(rx: &Receiver<Notice>, what: &str, want: impl Fn(&Notice) -> bool) -> Notice {
    wait_for_within(rx, what, NOTICE_WITHIN, want)
}

fn wait_for_within(
    rx: &Receiver<Notice>,
    what: &str,
    within: Duration,
    want: impl Fn(&Notice) -> bool,
) -> Notice {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(n) if want(&n) => return n,
            Ok(n) => eprintln!("waiting for {what}: skipped {n:?}"),
            Err(e) => panic!("no {what} within {within:?}: {e}"),
        }
    }
}

fn is_changed(n: &Notice) -> bool {
    matches!(n, Notice::Changed)
}

/// Drops what has arrived so far.
fn drain(rx: &Receiver<Notice>) {
    while rx.try_recv().is_ok() {}
}

/// No notice within `quiet`.
fn assert_quiet(rx: &Receiver<Notice>, quiet: Duration, after: &str) {
    match rx.recv_timeout(quiet) {
        Err(RecvTimeoutError::Timeout) => {}
        other => panic!("after {after}: expected no notice, got {other:?}"),
    }
}

/// Down, then Up naming the server within `within`, then Changed (repeated `Changed` may
/// come between them).
fn expect_down_up_changed(
    rx: &Receiver<Notice>,
    server: &ZookeeperServer,
    within: Duration,
    when: &str,
) {
    wait_for(rx, &format!("Down ({when})"), |n| matches!(n, Notice::Down { .. }));
    let up = wait_for_within(rx, &format!("Up ({when})"), within, |n| !is_changed(n));
    match up {
        Notice::Up { endpoint } => assert_eq!(endpoint, server.addr()),
        other => panic!("{when}: expected Up after Down, got {other:?}"),
    }
    assert!(is_changed(&next(rx, NOTICE_WITHIN)), "{when}: Changed must follow Up");
}

#[test]
fn reads_the_confd_data_set_as_confd_does() {
    let server = ZookeeperServer::start();
    load_confd_data(&server);
    let zk = client(&server);
    zk.probe().expect("probe");

    let got = zk.read(&keys(&["/database", "/upstream/*"])).unwrap();
    assert_eq!(
        got,
        map(&[
            ("/database/host", "127.0.0.1"),
            ("/database/password", "p@sSw0rd"),
            ("/database/port", "3306"),
            ("/database/username", "confd"),
            ("/upstream/app1", "10.0.1.10:8080"),
            ("/upstream/app2", "10.0.1.11:8080"),
        ])
    );
    // The key itself a leaf; nested inner nodes; a key below another key read once.
    assert_eq!(zk.read(&keys(&["/key"])).unwrap(), map(&[("/key", "foobar")]));
    assert_eq!(
        zk.read(&keys(&["/nested", "/nested/east"])).unwrap(),
        map(&[("/nested/east/app1", "10.0.1.10:8080"), ("/nested/west/app2", "10.0.1.11:8080")])
    );
    // A missing key contributes nothing (confd would fail the read).
    assert_eq!(zk.read(&keys(&["/missing", "/key/deeper"])).unwrap(), BTreeMap::new());
    assert_eq!(zk.read(&keys(&["/missing", "/key"])).unwrap(), map(&[("/key", "foobar")]));
    // An inner node's own data is ignored; a node that loses its children is a leaf again.
    server.set("/nested", "inner data");
    server.set("/nested/east", "inner data");
    assert!(!zk.read(&keys(&["/nested"])).unwrap().contains_key("/nested/east"));
    server.delete("/nested/west/app2");
    assert_eq!(
        zk.read(&keys(&["/nested/west"])).unwrap(),
        map(&[("/nested/west", "")]),
        "an empty inner node is a leaf with an empty value, as in confd"
    );
    // From `/`, as confd: ZooKeeper's own /zookeeper leaves are there too.
    let all = zk.read(&keys(&["/"])).unwrap();
    assert_eq!(all.get("/key").map(String::as_str), Some("foobar"));
    assert!(all.contains_key("/zookeeper/quota"), "{all:?}");
    assert!(!all.contains_key("/database"), "inner nodes are not values");

    // A tree wider than the request window (256) reads completely.
    for i in 0..300 {
        server.create(&format!("/wide/n{i:03}/leaf"), &i.to_string());
    }
    let wide = zk.read(&keys(&["/wide"])).unwrap();
    assert_eq!(wide.len(), 300);
    assert_eq!(wide.get("/wide/n299/leaf").map(String::as_str), Some("299"));
}

#[test]
fn watch_reports_changes_below_its_keys_only() {
    let server = ZookeeperServer::start();
    load_confd_data(&server);
    let zk = client(&server);
    let (tx, rx) = channel();
    // `/app` does not exist yet: a persistent recursive watch covers it anyway.
    let stop = zk.watch(keys(&["/app/*", "/database"]), tx).expect("watch");
    match rx.try_recv() {
        Ok(Notice::Up { endpoint }) => assert_eq!(endpoint, server.addr()),
        other => panic!("Up must be sent before watch() returns, got {other:?}"),
    }
    assert!(matches!(rx.try_recv(), Ok(Notice::Changed)), "then Changed");

    for (what, change) in [
        ("create", Box::new(|| server.create("/app/web/port", "80")) as Box<dyn Fn()>),
        ("set", Box::new(|| server.set("/app/web/port", "8080"))),
        ("delete", Box::new(|| server.delete("/app/web"))),
        ("set below the second key", Box::new(|| server.set("/database/port", "3307"))),
    ] {
        change();
        assert!(is_changed(&next(&rx, NOTICE_WITHIN)), "{what}: expected Changed");
        // One change can be several events (a delete of a subtree): let them all arrive.
        std::thread::sleep(Duration::from_millis(300));
        drain(&rx);
    }
    // Outside the keys: nothing (also not for a sibling whose name extends a key).
    server.set("/key", "other");
    server.create("/application", "x");
    assert_quiet(&rx, Duration::from_millis(500), "changes outside the keys");

    // Reads after Changed see the change (one session for both).
    server.put("/app/db", "new");
    assert!(is_changed(&next(&rx, NOTICE_WITHIN)));
    assert_eq!(zk.read(&keys(&["/app"])).unwrap(), map(&[("/app/db", "new")]));

    // Stopped: the thread ends (drops its sender) and reports nothing more.
    drop(stop);
    let ended = Instant::now() + Duration::from_secs(3);
    loop {
        match rx.recv_timeout(ended.saturating_duration_since(Instant::now())) {
            Err(RecvTimeoutError::Disconnected) => break,
            Ok(Notice::Changed) => continue, // sent before the stop was seen
            other => panic!("after stop: expected the watch to end, got {other:?}"),
        }
    }
}

#[test]
fn watch_recovers_after_a_restart_and_after_a_wiped_store() {
    let server = ZookeeperServer::start();
    load_confd_data(&server);
    let zk = client(&server);
    let (tx, rx) = channel();
    let _stop = zk.watch(keys(&["/upstream"]), tx).expect("watch");
    drain(&rx);

    // Same data dir: the session survives and the client re-adds the watch on it.
    server.stop();
    server.restart();
    expect_down_up_changed(&rx, &server, NOTICE_WITHIN, "restart");
    server.set("/upstream/app1", "10.0.1.12:8080");
    wait_for(&rx, "Changed after the restart", is_changed);
    assert_eq!(
        zk.read(&keys(&["/upstream/app1"])).unwrap(),
        map(&[("/upstream/app1", "10.0.1.12:8080")])
    );

    // Emptied data dir: the server refuses the old session (it has seen transactions the
    // server does not have), the client gives it up when it expires on the client's side
    // (7/5 of the 10 s session timeout), and the watch takes a new session.
    server.stop();
    server.restart_empty();
    expect_down_up_changed(&rx, &server, Duration::from_secs(30), "wiped store");
    assert_eq!(zk.read(&keys(&["/upstream"])).unwrap(), BTreeMap::new(), "new session reads");
    server.create("/upstream/app3", "10.0.1.13:8080");
    wait_for(&rx, "Changed on the new session", is_changed);
}

#[test]
fn watch_starts_while_the_server_is_down_and_finds_it() {
    let server = ZookeeperServer::start();
    server.create("/app/x", "1");
    server.stop();
    let zk = client(&server);
    let err = zk.probe().expect_err("nothing listens");
    assert!(err.is_unreachable(), "{err}");
    assert!(err.to_string().contains(&server.addr()), "names the ensemble: {err}");
    let err = zk.read(&keys(&["/app"])).expect_err("nothing listens");
    assert!(err.is_unreachable(), "{err}");

    let (tx, rx) = channel();
    let _stop = zk.watch(keys(&["/app"]), tx).expect("Ok while unreachable");
    match next(&rx, NOTICE_WITHIN) {
        Notice::Down { error } => assert!(error.to_string().contains(&server.addr()), "{error}"),
        other => panic!("expected Down, got {other:?}"),
    }
    server.restart();
    let up = wait_for(&rx, "Up", |n| !matches!(n, Notice::Down { .. }));
    assert!(matches!(up, Notice::Up { .. }), "expected Up, got {up:?}");
    assert!(is_changed(&next(&rx, NOTICE_WITHIN)));
    server.set("/app/x", "2");
    wait_for(&rx, "Changed", is_changed);
    assert_eq!(zk.read(&keys(&["/app"])).unwrap(), map(&[("/app/x", "2")]));
}

#[test]
fn a_hung_server_fails_reads_in_bounded_time() {
    let server = ZookeeperServer::start();
    load_confd_data(&server);
    let zk = client(&server);
    assert_eq!(zk.read(&keys(&["/key"])).unwrap(), map(&[("/key", "foobar")]));

    server.pause();
    let started = Instant::now();
    let err = zk.read(&keys(&["/database"])).expect_err("a stopped server answers nothing");
    let took = started.elapsed();
    assert!(err.is_unreachable(), "{err}");
    assert!(took < Duration::from_secs(15), "read took {took:?}: {err}");
    eprintln!("read of a hung server failed after {took:?}: {err}");
    let started = Instant::now();
    let err = zk.probe().expect_err("a stopped server answers nothing");
    assert!(err.is_unreachable(), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10), "probe took {:?}", started.elapsed());

    server.resume();
    let mut last = None;
    let recovered = testkit::wait_until(Duration::from_secs(20), || {
        let got = zk.read(&keys(&["/key"]));
        let ok = got.as_ref().is_ok_and(|m| m == &map(&[("/key", "foobar")]));
        last = Some(got);
        ok
    });
    assert!(recovered, "reads did not recover after SIGCONT: {last:?}");
}

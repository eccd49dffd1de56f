//! Watching a healthy cluster: what is delivered, as which units, and what is not.

use std::sync::mpsc;
use std::time::Duration;

use confd_etcd::{Etcd, Health, Update, WatchEvent};
use testkit::EtcdCluster;

use crate::common::{config, s, Recorder, Writer};

#[test]
fn watch_delivers_changes_as_units_and_nothing_else() {
    let cluster = EtcdCluster::start(1);
    let w = Writer::new(&cluster.endpoints());
    w.put("/app/upstream/a", "1");
    w.put("/app/domain", "example.org");
    let etcd = Etcd::connect(config(&cluster.endpoints())).unwrap();
    let prefixes = s(&["/app/upstream", "/app/domain", "/app/upstream/a"]);
    let snap = etcd.read(&prefixes).unwrap();
    let (tx, rx) = mpsc::channel();
    let handle = etcd.watch(prefixes, Some(snap.revision), tx);
    let rec = Recorder::start(rx, snap.kvs.clone());
    rec.wait(Duration::from_secs(5), "connected", |r| {
        matches!(r.statuses().first(), Some(Health::Connected { .. }))
    });

    let two_sec = Duration::from_secs(2);
    // put, update, delete: in order, one update per revision (one watcher covers both
    // prefixes, and etcd sends each revision in one response).
    w.put("/app/upstream/b", "2");
    w.put("/app/upstream/a", "1b");
    w.del("/app/upstream/b");
    w.put("/app/domain", "example.com");
    let r = rec.wait(two_sec, "four changes", |r| r.flat().len() == 4);
    let change = |k: &str, v: Option<&str>| (k.to_string(), v.map(str::to_string));
    assert_eq!(
        r.flat(),
        vec![
            change("/app/upstream/b", Some("2")),
            change("/app/upstream/a", Some("1b")),
            change("/app/upstream/b", None),
            change("/app/domain", Some("example.com")),
        ]
    );
    let sets = r.changes;

    // A transaction, across both prefixes: its events arrive as one change set.
    w.txn(&[
        ("/app/upstream/c", Some("3")),
        ("/app/upstream/d", Some("4")),
        ("/app/upstream/a", None),
        ("/app/upstream", Some("self")),
        ("/app/domain", Some("example.net")),
    ]);
    let r = rec.wait(two_sec, "the transaction", |r| r.changes == sets + 1);
    match r.updates().last().unwrap() {
        Update::Changes { changes, .. } => assert_eq!(changes.len(), 5, "{changes:?}"),
        other => panic!("{other:?}"),
    }

    // Keys outside the prefixes, siblings included, are not delivered: the next change set
    // after them is the marker.
    for k in ["/app/upstreamX", "/app/upstream-x/y", "/app/upstream.z", "/app/domainX", "/other"] {
        w.put(k, "unrelated");
    }
    w.put("/app/upstream/marker", "m");
    let r = rec.wait(two_sec, "the marker", |r| r.changes == sets + 2);
    match r.updates().last().unwrap() {
        Update::Changes { changes, .. } => {
            assert_eq!(changes, &vec![("/app/upstream/marker".to_string(), Some("m".to_string()))])
        }
        other => panic!("{other:?}"),
    }

    // The model equals a fresh read.
    let fresh = etcd.read(&s(&["/app/upstream", "/app/domain"])).unwrap();
    assert_eq!(r.state, fresh.kvs);
    assert_eq!(r.statuses().len(), 1, "{:?}", r.statuses());

    // Stopped: nothing more arrives. What the watch sent before it stopped (a progress
    // report, say) may still be on its way to the recorder: that is let in first.
    handle.stop();
    std::thread::sleep(Duration::from_millis(300));
    let at_stop = rec.get().events.len();
    w.put("/app/upstream/after-stop", "x");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(rec.get().events.len(), at_stop);
}

/// Without a starting revision the watch reads first: the first update is the full state, and
/// an idle watch keeps asking for progress without reporting anything.
#[test]
fn watch_without_state_starts_with_a_read() {
    let cluster = EtcdCluster::start(1);
    let w = Writer::new(&cluster.endpoints());
    w.put("/svc/a", "1");
    let mut cfg = config(&cluster.endpoints());
    cfg.progress_interval = Duration::from_millis(300);
    let etcd = Etcd::connect(cfg).unwrap();
    let (tx, rx) = mpsc::channel();
    let _handle = etcd.watch(s(&["/svc"]), None, tx);
    match rx.recv_timeout(Duration::from_secs(5)).unwrap() {
        WatchEvent::Update(Update::Resync(snap)) => {
            assert_eq!(snap.kvs.len(), 1);
            assert_eq!(snap.revision, cluster.revision());
        }
        other => panic!("first event {other:?}"),
    }
    assert!(matches!(
        rx.recv_timeout(Duration::from_secs(5)).unwrap(),
        WatchEvent::Status(Health::Connected { .. })
    ));
    // Idle for several progress intervals: no events, no reconnects.
    assert!(rx.recv_timeout(Duration::from_secs(2)).is_err());
    w.put("/svc/b", "2");
    match rx.recv_timeout(Duration::from_secs(2)).unwrap() {
        WatchEvent::Update(Update::Changes { changes, .. }) => {
            assert_eq!(changes, vec![("/svc/b".to_string(), Some("2".to_string()))])
        }
        other => panic!("{other:?}"),
    }
}

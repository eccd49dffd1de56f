//! etcd unreachable: at start, in the middle of a run, and long enough to be compacted past.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use confd_etcd::{Etcd, EtcdError, Health, Update, WatchEvent};
use testkit::EtcdCluster;

use crate::common::{config, s, Recorder, Writer};

/// Down at start: the read says which endpoint it tried; the watch reports Disconnected once,
/// waits, and delivers the full state once etcd is up.
#[test]
fn etcd_down_at_start() {
    let cluster = EtcdCluster::start(1);
    cluster.put("/svc/a", "1");
    cluster.member(0).kill();
    let endpoints = cluster.endpoints();
    let etcd = Etcd::connect(config(&endpoints)).unwrap();

    let t = Instant::now();
    let err = etcd.read(&s(&["/svc"])).unwrap_err();
    eprintln!("read with etcd down failed in {:?}: {err}", t.elapsed());
    assert!(matches!(err, EtcdError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().starts_with("cannot reach etcd: tried "), "{err}");
    assert!(err.to_string().contains(&endpoints[0]), "{err}");
    assert!(t.elapsed() < Duration::from_secs(2));

    let (tx, rx) = mpsc::channel();
    let _handle = etcd.watch(s(&["/svc"]), None, tx);
    let rec = Recorder::start(rx, Default::default());
    rec.wait(Duration::from_secs(3), "disconnected", |r| r.disconnects() == 1);
    std::thread::sleep(Duration::from_secs(4));
    let r = rec.get();
    assert_eq!(r.events.len(), 1, "one report, nothing delivered: {:#?}", r.events);

    cluster.member(0).restart();
    let r = rec.wait(Duration::from_secs(10), "the first state", |r| r.resyncs == 1);
    assert_eq!(r.state.get("/svc/a").map(String::as_str), Some("1"));
    rec.wait(Duration::from_secs(5), "connected", |r| {
        matches!(r.statuses().last(), Some(Health::Connected { .. }))
    });
    cluster.put("/svc/b", "2");
    let r = rec.wait(Duration::from_secs(5), "the put", |r| r.state.contains_key("/svc/b"));
    assert_eq!(r.disconnects(), 1);
}

/// The watch's only endpoint goes away while the rest of the cluster takes writes, for longer
/// than several retry periods: Disconnected once, then Connected, and every write made
/// meanwhile arrives as changes (resumed, no re-read).
#[test]
fn etcd_down_mid_run_resumes_without_loss() {
    let cluster = EtcdCluster::start(3);
    let endpoints = cluster.endpoints();
    let others = endpoints[1..].to_vec();
    let w = Writer::new(&others);
    w.put("/svc/a", "1");
    w.put("/svc/gone", "x");
    let etcd = Etcd::connect(config(&endpoints[..1])).unwrap();
    let snap = etcd.read(&s(&["/svc"])).unwrap();
    let (tx, rx) = mpsc::channel();
    let _handle = etcd.watch(s(&["/svc"]), Some(snap.revision), tx);
    let rec = Recorder::start(rx, snap.kvs);
    rec.wait(Duration::from_secs(5), "connected", |r| r.statuses().len() == 1);
    w.put("/svc/before", "1");
    rec.wait(Duration::from_secs(5), "a change", |r| r.changes == 1);

    cluster.member(0).kill();
    rec.wait(Duration::from_secs(5), "disconnected", |r| r.disconnects() == 1);
    for i in 0..20 {
        w.put(&format!("/svc/during/{i}"), "d");
    }
    w.del("/svc/gone");
    w.put("/svc/a", "2");
    std::thread::sleep(Duration::from_secs(7));
    let r = rec.get();
    assert_eq!(r.statuses().len(), 2, "Disconnected once, not per retry: {:?}", r.statuses());
    assert_eq!(r.changes, 1);

    let t = Instant::now();
    cluster.member(0).restart();
    let fresh = etcd.read(&s(&["/svc"])).unwrap();
    let r = rec.wait(Duration::from_secs(10), "catching up", |r| r.state == fresh.kvs);
    eprintln!("caught up {:?} after the restart began", t.elapsed());
    assert_eq!(r.resyncs, 0, "resumed, not re-read");
    assert!(matches!(r.statuses().last(), Some(Health::Connected { .. })), "{:?}", r.statuses());
    assert_eq!(r.disconnects(), 1);
}

/// The watch's endpoint is down while keys are written, deleted and the history compacted:
/// on return it cannot resume, re-reads, and the state is right, deletions included.
#[test]
fn compacted_while_disconnected_resyncs() {
    let cluster = EtcdCluster::start(3);
    let endpoints = cluster.endpoints();
    let w = Writer::new(&endpoints[1..]);
    w.put("/svc/keep", "1");
    w.put("/svc/old", "1");
    let etcd = Etcd::connect(config(&endpoints[..1])).unwrap();
    let snap = etcd.read(&s(&["/svc"])).unwrap();
    let (tx, rx) = mpsc::channel();
    let _handle = etcd.watch(s(&["/svc"]), Some(snap.revision), tx);
    let rec = Recorder::start(rx, snap.kvs);
    rec.wait(Duration::from_secs(5), "connected", |r| r.statuses().len() == 1);

    cluster.member(0).kill();
    rec.wait(Duration::from_secs(5), "disconnected", |r| r.disconnects() == 1);
    w.put("/svc/new", "1");
    w.del("/svc/old");
    w.put("/svc/keep", "2");
    w.put("/svc/tmp", "1");
    w.del("/svc/tmp");
    let compacted = cluster.compact_to_current();
    cluster.member(0).restart();

    let r = rec.wait(Duration::from_secs(15), "a resync", |r| r.resyncs == 1);
    let resync = r
        .updates()
        .into_iter()
        .find_map(|u| match u {
            Update::Resync(snap) => Some(snap),
            _ => None,
        })
        .unwrap();
    assert!(resync.revision >= compacted);
    let keys: Vec<&str> = resync.kvs.keys().map(String::as_str).collect();
    assert_eq!(keys, ["/svc/keep", "/svc/new"]);
    assert_eq!(resync.kvs["/svc/keep"], "2");
    assert!(
        r.statuses()
            .iter()
            .any(|h| matches!(h, Health::Resyncing { reason } if reason.contains("compacted"))),
        "{:?}",
        r.statuses()
    );
    // The Resync is the only update since the outage; the watch then carries on from it.
    assert_eq!(r.changes, 0);
    w.put("/svc/after", "1");
    let r = rec.wait(Duration::from_secs(5), "a change after the resync", |r| r.changes == 1);
    assert!(r.events.iter().all(|(_, e)| !matches!(e, WatchEvent::Update(Update::Changes { revision, .. }) if *revision <= resync.revision)));
}

/// etcd restored from an older backup, with the same cluster ID: the revision goes backwards.
/// The watch cannot resume (it would wait for revisions that mean something else now); it
/// re-reads and delivers the restored state.
#[test]
fn restored_cluster_resyncs() {
    let token = format!("confd-etcd-restore-{}", std::process::id());
    let cluster = EtcdCluster::start_with(
        testkit::EtcdOptions::new(1).arg(format!("--initial-cluster-token={token}")),
    );
    let endpoints = cluster.endpoints();
    let w = Writer::new(&endpoints);
    w.put("/r/a", "1");
    let backup = cluster.dir().join("backup.db");
    cluster.ctl().ok(&["snapshot", "save", backup.to_str().unwrap()]);

    let etcd = Etcd::connect(config(&endpoints)).unwrap();
    let snap = etcd.read(&s(&["/r"])).unwrap();
    let (tx, rx) = mpsc::channel();
    let _handle = etcd.watch(s(&["/r"]), Some(snap.revision), tx);
    let rec = Recorder::start(rx, snap.kvs);
    rec.wait(Duration::from_secs(5), "connected", |r| r.statuses().len() == 1);
    w.put("/r/b", "2");
    w.put("/r/c", "3");
    w.del("/r/a");
    rec.wait(Duration::from_secs(5), "three changes", |r| r.changes == 3);

    let m = cluster.member(0);
    m.kill();
    std::fs::remove_dir_all(m.data_dir()).unwrap();
    cluster.ctl().ok(&[
        "snapshot",
        "restore",
        backup.to_str().unwrap(),
        &format!("--name={}", m.name()),
        &format!("--data-dir={}", m.data_dir().display()),
        &format!("--initial-cluster={}={}", m.name(), m.peer_url()),
        &format!("--initial-advertise-peer-urls={}", m.peer_url()),
        &format!("--initial-cluster-token={token}"),
    ]);
    m.restart();

    let r = rec.wait(Duration::from_secs(15), "a resync", |r| r.resyncs == 1);
    let keys: Vec<&str> = r.state.keys().map(String::as_str).collect();
    assert_eq!(keys, ["/r/a"], "the restored state");
    let reason = r
        .statuses()
        .into_iter()
        .find_map(|h| match h {
            Health::Resyncing { reason } => Some(reason),
            _ => None,
        })
        .unwrap();
    eprintln!("resync after restore: {reason}");
    assert!(reason.contains("behind"), "same cluster ID, so the revision check: {reason}");
    w.put("/r/d", "4");
    let r = rec.wait(Duration::from_secs(5), "a change after the restore", |r| {
        r.state.contains_key("/r/d")
    });
    assert_eq!(r.state, etcd.read(&s(&["/r"])).unwrap().kvs);
}

//! Three members; the member a watch is on is killed during a stream of writes, then the
//! member it moved to is frozen (SIGSTOP) for 10 s. The watch keeps going and ends where etcd
//! ends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use confd_etcd::{Etcd, Health};
use testkit::EtcdCluster;

use crate::common::{config, member_of, s, Recorder, Writer};

const WRITES: usize = 1000;

#[test]
fn watch_survives_a_killed_and_a_hung_member() {
    let t0 = Instant::now();
    let cluster = EtcdCluster::start(3);
    let endpoints = cluster.endpoints();
    let etcd = Etcd::connect(config(&endpoints)).unwrap();
    let snap = etcd.read(&s(&["/svc"])).unwrap();
    let (tx, rx) = mpsc::channel();
    let _handle = etcd.watch(s(&["/svc"]), Some(snap.revision), tx);
    let rec = Recorder::start(rx, snap.kvs);
    let r = rec.wait(Duration::from_secs(5), "connected", |r| !r.statuses().is_empty());
    let first = match &r.statuses()[0] {
        Health::Connected { endpoint } => member_of(&endpoints, endpoint),
        other => panic!("{other:?}"),
    };

    // 1,000 writes — puts, deletes, and every 50th a transaction — paced over ~15 s.
    let done = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (done, endpoints) = (done.clone(), endpoints.clone());
        std::thread::spawn(move || {
            let w = Writer::new(&endpoints);
            for i in 0..WRITES {
                let key = format!("/svc/s{:02}/addr", i % 37);
                if i % 50 == 49 {
                    let (a, b) = (format!("/svc/t{i}/a"), format!("/svc/t{i}/b"));
                    w.txn(&[(&a, Some("x")), (&b, Some("y")), (&key, None)]);
                } else if i % 10 == 9 {
                    w.del(&format!("/svc/s{:02}/addr", (i + 5) % 37));
                } else {
                    w.put(&key, &format!("10.0.0.{}", i % 250));
                }
                done.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(12));
            }
        })
    };

    // Kill -9 the watch's member after 200 writes; bring it back.
    assert!(testkit::wait_until(Duration::from_secs(30), || done.load(Ordering::Relaxed) >= 200));
    let t_kill = Instant::now();
    cluster.member(first).kill();
    let r = rec.wait(Duration::from_secs(10), "the watch to move", |r| {
        r.statuses().iter().any(|h| matches!(h, Health::Reconnected { .. }))
    });
    eprintln!("watch moved {:?} after the kill", t_kill.elapsed());
    let second = match r.statuses().last().unwrap() {
        Health::Reconnected { endpoint, .. } => member_of(&endpoints, endpoint),
        other => panic!("{other:?}"),
    };
    assert_ne!(second, first);
    cluster.member(first).restart();

    // Freeze the member the watch moved to for 10 s while the writes go on.
    let moved_before = r.statuses().len();
    let writes_before = done.load(Ordering::Relaxed);
    let t_pause = Instant::now();
    cluster.member(second).pause();
    // Reads go first to the member that last worked — the hung one: that costs one request
    // timeout, after which reads stay on a member that answers.
    let t = Instant::now();
    etcd.read(&s(&["/svc"])).unwrap();
    let first_read = t.elapsed();
    let t = Instant::now();
    etcd.read(&s(&["/svc"])).unwrap();
    let second_read = t.elapsed();
    eprintln!("reads with a hung member: {first_read:?}, then {second_read:?}");
    assert!(first_read < Duration::from_secs(5), "{first_read:?}");
    assert!(second_read < Duration::from_secs(1), "{second_read:?}");
    let r = rec.wait(Duration::from_secs(10), "the watch to leave the hung member", |r| {
        r.statuses().len() > moved_before
    });
    eprintln!(
        "watch left the hung member {:?} after SIGSTOP: {:?}",
        t_pause.elapsed(),
        r.statuses().last()
    );
    std::thread::sleep(Duration::from_secs(10).saturating_sub(t_pause.elapsed()));
    cluster.member(second).resume();
    let writes_during = done.load(Ordering::Relaxed) - writes_before;
    eprintln!("{writes_during} writes during the 10 s pause");

    writer.join().unwrap();
    let fresh = etcd.read(&s(&["/svc"])).unwrap();
    let r = rec
        .wait(Duration::from_secs(10), "the model to equal a fresh read", |r| r.state == fresh.kvs);
    eprintln!(
        "{} change sets, {} resyncs, statuses {:?}; whole test {:?}",
        r.changes,
        r.resyncs,
        r.statuses(),
        t0.elapsed()
    );
    assert_eq!(r.disconnects(), 0, "quorum was never lost: {:?}", r.statuses());
    assert!(writes_during > 50, "writes must go on during the pause");
}

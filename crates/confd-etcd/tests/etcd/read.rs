//! Reads: path-aware, all prefixes at one revision, large results.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use confd_etcd::Etcd;
use testkit::EtcdCluster;

use crate::common::{config, s, Writer};

#[test]
fn read_is_path_aware() {
    let cluster = EtcdCluster::start(1);
    let w = Writer::new(&cluster.endpoints());
    for (k, v) in [
        ("/app/upstream", "self"),
        ("/app/upstream/a", "1"),
        ("/app/upstream/b/c", "2"),
        ("/app/upstreamX", "sibling"),
        ("/app/upstream-x/y", "sibling"),
        ("/app/upstream.z", "sibling"),
        ("/app/domain", "example.org"),
        ("/other", "o"),
        ("no-slash", "n"),
    ] {
        w.put(k, v);
    }
    let etcd = Etcd::connect(config(&cluster.endpoints())).unwrap();

    let snap = etcd.read(&s(&["/app/upstream", "/app/domain/", "/missing"])).unwrap();
    let keys: Vec<&str> = snap.kvs.keys().map(|k| k.as_str()).collect();
    assert_eq!(keys, ["/app/domain", "/app/upstream", "/app/upstream/a", "/app/upstream/b/c"]);
    assert_eq!(snap.kvs["/app/upstream"], "self");
    assert_eq!(snap.revision, cluster.revision());

    // A prefix inside another adds nothing twice; "/" is everything.
    let snap = etcd.read(&s(&["/app/upstream/b", "/app/upstream"])).unwrap();
    assert_eq!(snap.kvs.len(), 3);
    let all = etcd.read(&s(&["/"])).unwrap();
    assert_eq!(all.kvs.len(), 9);
    assert_eq!(all.kvs["no-slash"], "n");

    // A hung member (SIGSTOP) is a timeout, never a hang: three attempts of 1 s each.
    let mut cfg = config(&cluster.endpoints());
    cfg.request_timeout = Duration::from_secs(1);
    let impatient = Etcd::connect(cfg).unwrap();
    cluster.member(0).pause();
    let t = Instant::now();
    let err = impatient.read(&s(&["/app"])).unwrap_err();
    let took = t.elapsed();
    cluster.member(0).resume();
    eprintln!("read from a hung member failed after {took:?}: {err}");
    assert!(matches!(err, confd_etcd::EtcdError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().starts_with("etcd did not answer within 1s: tried "), "{err}");
    assert!(took < Duration::from_secs(6), "{took:?}");
}

/// 100 prefixes are 200 ranges, so two transactions. A writer keeps setting one key under
/// every prefix to the same generation, in one transaction; every read must see one
/// generation throughout, which holds only if the second transaction is pinned to the first
/// one's revision.
#[test]
fn read_is_one_revision_across_batches() {
    let cluster = EtcdCluster::start(1);
    let endpoints = cluster.endpoints();
    let prefixes: Vec<String> = (0..100).map(|i| format!("/c/p{i:03}")).collect();
    let w = Writer::new(&endpoints);
    let keys: Vec<String> = prefixes.iter().map(|p| format!("{p}/k")).collect();
    let write_gen = |g: usize| {
        let v = g.to_string();
        let ops: Vec<(&str, Option<&str>)> =
            keys.iter().map(|k| (k.as_str(), Some(v.as_str()))).collect();
        w.txn(&ops);
    };
    write_gen(0);

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, keys) = (stop.clone(), keys.clone());
        let endpoints = endpoints.clone();
        std::thread::spawn(move || {
            let w = Writer::new(&endpoints);
            let mut g = 1;
            while !stop.load(Ordering::Relaxed) {
                let v = g.to_string();
                let ops: Vec<(&str, Option<&str>)> =
                    keys.iter().map(|k| (k.as_str(), Some(v.as_str()))).collect();
                w.txn(&ops);
                g += 1;
            }
            g
        })
    };

    let etcd = Etcd::connect(config(&endpoints)).unwrap();
    let mut revisions = std::collections::BTreeSet::new();
    for _ in 0..30 {
        let snap = etcd.read(&prefixes).unwrap();
        assert_eq!(snap.kvs.len(), 100);
        let gens: std::collections::BTreeSet<&String> = snap.kvs.values().collect();
        assert_eq!(
            gens.len(),
            1,
            "a read mixed generations {gens:?} at revision {}",
            snap.revision
        );
        revisions.insert(snap.revision);
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::Relaxed);
    let generations = writer.join().unwrap();
    assert!(revisions.len() > 5, "the writer was too slow to test anything: {revisions:?}");
    eprintln!(
        "30 reads saw {} revisions while {generations} generations were written",
        revisions.len()
    );
}

#[test]
fn read_of_40000_keys() {
    let cluster = EtcdCluster::start(1);
    let w = Writer::new(&cluster.endpoints());
    let t = Instant::now();
    let keys: Vec<String> = (0..40_000)
        .map(|i| format!("/big/svc{:05}/{}", i / 4, ["host", "port", "weight", "domain"][i % 4]))
        .collect();
    for chunk in keys.chunks(128) {
        let ops: Vec<(&str, Option<&str>)> =
            chunk.iter().map(|k| (k.as_str(), Some("10.0.0.1:8080"))).collect();
        w.txn(&ops);
    }
    w.put("/bigX", "sibling");
    eprintln!("wrote 40,000 keys in {:?}", t.elapsed());

    let etcd = Etcd::connect(config(&cluster.endpoints())).unwrap();
    let t = Instant::now();
    let snap = etcd.read(&s(&["/big"])).unwrap();
    let took = t.elapsed();
    eprintln!("read 40,000 keys in {took:?}");
    assert_eq!(snap.kvs.len(), 40_000);
    let mut sorted = keys.clone();
    sorted.sort();
    assert!(snap.kvs.keys().eq(sorted.iter()));
    assert!(snap.kvs.values().all(|v| v == "10.0.0.1:8080"));
    assert!(took < Duration::from_secs(10), "{took:?}");
}

//! Authentication: wrong password, missing permission, and tokens that expire while idle.

use std::sync::mpsc;
use std::time::Duration;

use confd_etcd::{Etcd, EtcdConfig, EtcdError, Health};
use testkit::{EtcdCluster, EtcdOptions};

use crate::common::{s, Recorder};

fn user(endpoints: &[String], name: &str, password: &str) -> EtcdConfig {
    let mut cfg = EtcdConfig::new(endpoints.to_vec());
    cfg.username = Some(name.into());
    cfg.password = Some(password.into());
    cfg
}

#[test]
fn auth_errors_and_token_expiry() {
    // Tokens expire after 2 s without use (testkit: sliding TTL, checked once a second).
    let cluster = EtcdCluster::start_with(EtcdOptions::new(1).auth_token_ttl(2));
    let endpoints = cluster.endpoints();
    cluster.put("/app/upstream/a", "1");
    cluster.put("/secret/key", "s");
    cluster.add_user("confd", "pw", "reader", Some("/app"), None);
    cluster.enable_auth("rootpw");

    // Wrong password: one clear error, at connect.
    let err = Etcd::connect(user(&endpoints, "confd", "wrong")).err().expect("must fail");
    assert_eq!(
        err.to_string(),
        format!("authentication failed: invalid user or password (etcd at {})", endpoints[0])
    );
    // An unknown user is the same error; no user at all says that one is needed.
    let err = Etcd::connect(user(&endpoints, "nobody", "pw")).err().expect("must fail");
    assert!(matches!(err, EtcdError::AuthFailed { .. }), "{err:?}");
    let anonymous = Etcd::connect(EtcdConfig::new(endpoints.clone())).unwrap();
    let err = anonymous.read(&s(&["/app"])).unwrap_err();
    assert!(matches!(err, EtcdError::AuthRequired { .. }), "{err:?}");
    // A dead endpoint first does not stop authentication.
    let dead_first =
        vec![format!("http://127.0.0.1:{}", testkit::free_port()), endpoints[0].clone()];
    let etcd = Etcd::connect(user(&dead_first, "confd", "pw")).unwrap();
    assert_eq!(etcd.read(&s(&["/app/upstream"])).unwrap().kvs.len(), 1);

    // Permission denied names the prefix, for a read and for a watch (reported once).
    let etcd = Etcd::connect(user(&endpoints, "confd", "pw")).unwrap();
    let err = etcd.read(&s(&["/app/upstream", "/secret"])).unwrap_err();
    assert!(
        matches!(&err, EtcdError::PermissionDenied { prefix, .. } if prefix == "/secret"),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("permission denied: user \"confd\" may not read /secret"),
        "{err}"
    );
    let (tx, rx) = mpsc::channel();
    let denied = etcd.watch(s(&["/secret"]), Some(1), tx);
    let rec = Recorder::start(rx, Default::default());
    let r = rec.wait(Duration::from_secs(5), "the refusal", |r| r.disconnects() == 1);
    assert!(
        matches!(&r.statuses()[0], Health::Disconnected { error: EtcdError::PermissionDenied { prefix, .. } } if prefix == "/secret"),
        "{:?}",
        r.statuses()
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(rec.get().events.len(), 1, "reported once: {:#?}", rec.get().events);
    denied.stop();

    // Token expiry: a watch established before, and one started after the token expired
    // (before any read could refresh it), both deliver; a read works too.
    let snap = etcd.read(&s(&["/app"])).unwrap();
    let (tx1, rx1) = mpsc::channel();
    let _old = etcd.watch(s(&["/app"]), Some(snap.revision), tx1);
    let old = Recorder::start(rx1, snap.kvs.clone());
    old.wait(Duration::from_secs(5), "connected", |r| r.statuses().len() == 1);
    std::thread::sleep(Duration::from_secs(4));
    let (tx2, rx2) = mpsc::channel();
    let _new = etcd.watch(s(&["/app"]), Some(snap.revision), tx2);
    let new = Recorder::start(rx2, snap.kvs.clone());
    let r = new.wait(Duration::from_secs(5), "the new watch", |r| !r.statuses().is_empty());
    assert!(matches!(r.statuses()[0], Health::Connected { .. }), "{:?}", r.statuses());
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(etcd.read(&s(&["/app"])).unwrap().kvs.len(), 1);
    cluster.put("/app/upstream/b", "2");
    for rec in [&old, &new] {
        let r = rec
            .wait(Duration::from_secs(5), "the put", |r| r.state.contains_key("/app/upstream/b"));
        assert_eq!(r.disconnects(), 0, "{:?}", r.statuses());
    }
}

/// A user who may read two prefixes but not the range between them: the watch over the range
/// covering both is refused, so it splits into one watcher per prefix (said once, no outage)
/// and follows both.
#[test]
fn a_watch_without_access_to_the_covering_range_splits_per_prefix() {
    let cluster = EtcdCluster::start(1);
    let endpoints = cluster.endpoints();
    cluster.put("/dc/a/x", "1");
    cluster.put("/dc/b/secret", "s");
    cluster.put("/dc/c/y", "1");
    cluster.add_user("narrow", "pw", "narrow", Some("/dc/a"), None);
    let grant = ["role", "grant-permission", "--prefix=true", "narrow", "read", "--", "/dc/c"];
    cluster.ctl().ok(&grant);
    cluster.enable_auth("rootpw");

    let etcd = Etcd::connect(user(&endpoints, "narrow", "pw")).unwrap();
    let prefixes = s(&["/dc/a", "/dc/c"]);
    let snap = etcd.read(&prefixes).unwrap();
    let (tx, rx) = mpsc::channel();
    let _watch = etcd.watch(prefixes.clone(), Some(snap.revision), tx);
    let rec = Recorder::start(rx, snap.kvs.clone());
    let r = rec.wait(Duration::from_secs(5), "split and connected", |r| {
        r.statuses().iter().any(|h| matches!(h, Health::Connected { .. }))
    });
    assert!(
        matches!(&r.statuses()[0], Health::Split { prefixes, .. } if prefixes == "/dc/a, /dc/c"),
        "{:?}",
        r.statuses()
    );
    assert_eq!(r.disconnects(), 0, "no outage: {:?}", r.statuses());

    cluster.put("/dc/a/x", "2");
    cluster.put("/dc/c/y", "2");
    let r = rec.wait(Duration::from_secs(5), "both changes", |r| r.flat().len() == 2);
    assert_eq!(r.state, etcd.read(&prefixes).unwrap().kvs);
}

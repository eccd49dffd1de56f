//! Registration: leases, one-transaction registration, deregistration, revocation, and writes
//! refused by permissions.

use std::time::Duration;

use confd_etcd::{Etcd, EtcdConfig, EtcdError};
use testkit::{wait_until, EtcdCluster};

fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The lease a key is attached to (0: none; etcdctl's JSON omits a zero lease), from
/// `etcdctl get -w json`; `None` if the key does not exist.
fn lease_of(cluster: &EtcdCluster, key: &str) -> Option<i64> {
    let out = cluster.ctl().ok(&["get", "-w", "json", "--", key]);
    if !out.contains("\"kvs\"") {
        return None;
    }
    let Some(at) = out.find("\"lease\":") else { return Some(0) };
    let digits: String =
        out[at + "\"lease\":".len()..].chars().take_while(|c| c.is_ascii_digit()).collect();
    Some(digits.parse().expect("a lease id"))
}

#[test]
fn lease_register_keep_alive_deregister_revoke() {
    let cluster = EtcdCluster::start(1);
    let etcd = Etcd::connect(EtcdConfig::new(cluster.endpoints())).unwrap();
    let (sub, up) = ("/svc/subdomain/web", "/svc/upstream/web/i1");
    let shared = kv(&[(sub, "a.example.com b.example.com")]);
    let leased = kv(&[(up, "10.0.0.1:80"), ("/svc/extra/i1", "x")]);

    let lease = etcd.grant(3).unwrap();
    assert_eq!(lease.ttl, 3);
    etcd.register(lease.id, &shared, &leased).unwrap();
    assert_eq!(cluster.get(sub).as_deref(), Some("a.example.com b.example.com"));
    assert_eq!(cluster.get(up).as_deref(), Some("10.0.0.1:80"));
    assert_eq!(lease_of(&cluster, sub), Some(0), "the shared key has no lease");
    assert_eq!(lease_of(&cluster, up), Some(lease.id));
    assert_eq!(lease_of(&cluster, "/svc/extra/i1"), Some(lease.id));
    // Registering again is idempotent.
    etcd.register(lease.id, &shared, &leased).unwrap();
    assert_eq!(etcd.keep_alive(lease.id).unwrap(), Some(3));

    // Keep-alive keeps the keys past the TTL.
    for _ in 0..5 {
        std::thread::sleep(Duration::from_secs(1));
        assert_eq!(etcd.keep_alive(lease.id).unwrap(), Some(3));
    }
    assert_eq!(cluster.get(up).as_deref(), Some("10.0.0.1:80"));

    // Deregistering deletes the given keys at once, and only those.
    etcd.deregister(&[up.to_string()]).unwrap();
    assert_eq!(cluster.get(up), None);
    assert_eq!(cluster.get("/svc/extra/i1").as_deref(), Some("x"));
    etcd.deregister(&[up.to_string()]).unwrap(); // nothing left to delete: fine

    // Revoking deletes every key under the lease at once; the shared key stays.
    etcd.register(lease.id, &shared, &leased).unwrap();
    etcd.revoke(lease.id).unwrap();
    assert_eq!(cluster.get(up), None);
    assert_eq!(cluster.get("/svc/extra/i1"), None);
    assert_eq!(cluster.get(sub).as_deref(), Some("a.example.com b.example.com"));
    etcd.revoke(lease.id).unwrap(); // already gone: fine
    assert_eq!(etcd.keep_alive(lease.id).unwrap(), None);
    let err = etcd.register(lease.id, &shared, &leased).unwrap_err();
    assert_eq!(err, EtcdError::LeaseNotFound { lease: lease.id });
    assert_eq!(cluster.get(up), None, "nothing written by a failed registration");

    // Without keep-alive the lease expires and takes its keys.
    let short = etcd.grant(2).unwrap();
    etcd.register(short.id, &[], &leased).unwrap();
    assert!(wait_until(Duration::from_secs(5), || cluster.get(up).is_none()));
    assert_eq!(etcd.keep_alive(short.id).unwrap(), None);

    // etcd unreachable: each call says so.
    let dead = format!("http://127.0.0.1:{}", testkit::free_port());
    let etcd = Etcd::connect(EtcdConfig::new(vec![dead])).unwrap();
    for err in [
        etcd.grant(2).unwrap_err(),
        etcd.keep_alive(1).unwrap_err(),
        etcd.register(1, &shared, &leased).unwrap_err(),
        etcd.revoke(1).unwrap_err(),
    ] {
        assert!(matches!(err, EtcdError::Unreachable { .. }), "{err:?}");
    }
}

#[test]
fn refused_writes_name_the_key() {
    let cluster = EtcdCluster::start(1);
    let endpoints = cluster.endpoints();
    cluster.add_user("reg", "pw", "registrar", Some("/svc"), Some("/svc"));
    cluster.add_user("wo", "pw", "writeonly", None, Some("/svc"));
    cluster.enable_auth("rootpw");
    let connect = |user: &str| {
        let mut cfg = EtcdConfig::new(endpoints.clone());
        cfg.username = Some(user.into());
        cfg.password = Some("pw".into());
        Etcd::connect(cfg).unwrap()
    };
    let etcd = connect("reg");
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    etcd.check_writable(&s(&["/svc/subdomain/web", "/svc/upstream/web/i1"])).unwrap();
    let err = etcd.check_writable(&s(&["/svc/a", "/other/b", "/other/c"])).unwrap_err();
    assert!(matches!(&err, EtcdError::WriteDenied { key, .. } if key == "/other/b"), "{err:?}");
    assert!(
        err.to_string().starts_with("permission denied: user \"reg\" may not write /other/b"),
        "{err}"
    );
    assert_eq!(cluster.get("/svc/a"), None, "a check writes nothing");

    // A registration with one refused key writes nothing and names that key.
    let lease = etcd.grant(5).unwrap();
    let err = etcd
        .register(lease.id, &kv(&[("/svc/subdomain/web", "a.example")]), &kv(&[("/other/x", "1")]))
        .unwrap_err();
    assert!(matches!(&err, EtcdError::WriteDenied { key, .. } if key == "/other/x"), "{err:?}");
    assert_eq!(cluster.get("/svc/subdomain/web"), None, "all or nothing");
    let err = etcd.deregister(&s(&["/other/x"])).unwrap_err();
    assert!(matches!(&err, EtcdError::WriteDenied { key, .. } if key == "/other/x"), "{err:?}");

    // A user that may only write its prefix can register, keep alive and revoke.
    let wo = connect("wo");
    let lease = wo.grant(5).unwrap();
    wo.register(lease.id, &kv(&[("/svc/subdomain/web", "a.example")]), &kv(&[("/svc/up/i", "1")]))
        .unwrap();
    assert_eq!(cluster.get("/svc/up/i").as_deref(), Some("1"));
    assert_eq!(wo.keep_alive(lease.id).unwrap(), Some(5));
    wo.revoke(lease.id).unwrap();
    assert_eq!(cluster.get("/svc/up/i"), None);
}

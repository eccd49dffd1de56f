//! The etcd v2 client against real etcd 3.4 started with `--enable-v2` (testkit): reads of
//! confd's integration data set, the watch (a change, an unrelated change, a cleared index,
//! a restarted member), fail-over, the seed's v2 users and roles, TLS, and an etcd without
//! the v2 API.

use std::collections::BTreeMap;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use confd_backend::notify::Notice;
use confd_etcdv2::{EtcdV2, EtcdV2Config, EtcdV2Error};
use confd_http::tls::TlsSettings;
use testkit::gateway::Gateway;
use testkit::{EtcdCluster, EtcdOptions};

fn v2_cluster(members: usize) -> EtcdCluster {
    EtcdCluster::start_with(EtcdOptions::new(members).arg("--enable-v2"))
}

fn client(nodes: Vec<String>) -> EtcdV2 {
    EtcdV2::new(EtcdV2Config { nodes, ..Default::default() }).unwrap()
}

fn strings(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

/// confd's integration data set, written through the v2 API.
fn write_data_set(gw: &mut Gateway) {
    for (k, v) in testkit::CONFD_DATA_SET {
        gw.v2_set(k, v).unwrap();
    }
}

fn pairs(kvs: &BTreeMap<String, String>) -> Vec<(&str, &str)> {
    kvs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// The next `Changed`, skipping `Up`s; `None` if none comes within `timeout`.
fn next_change(rx: &Receiver<Notice>, timeout: Duration) -> Option<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match rx.recv_timeout(left).ok()? {
            Notice::Changed => return Some(()),
            Notice::Up { .. } => {}
            Notice::Down { error } => panic!("unexpected Down: {error}"),
        }
    }
}

/// Drains what is pending (the start's `Up` and `Changed`).
fn drain(rx: &Receiver<Notice>) {
    while rx.recv_timeout(Duration::from_millis(300)).is_ok() {}
}

#[test]
fn reads_confd_data_set_leaves_only_and_missing_keys_as_nothing() {
    let etcd = v2_cluster(1);
    let mut gw = Gateway::new(&etcd.endpoints()[0]);
    write_data_set(&mut gw);
    gw.v2_set("/upstreamX/a", "not selected").unwrap();
    let v2 = client(etcd.endpoints());
    v2.probe().unwrap();

    let kvs = v2.read(&strings(&["/database", "/key", "/upstream", "/doesnotexist"])).unwrap();
    assert_eq!(
        pairs(&kvs),
        [
            ("/database/host", "127.0.0.1"),
            ("/database/password", "p@sSw0rd"),
            ("/database/port", "3306"),
            ("/database/username", "confd"),
            ("/key", "foobar"),
            ("/upstream/app1", "10.0.1.10:8080"),
            ("/upstream/app2", "10.0.1.11:8080"),
        ]
    );
    // Nested directories give their leaves; `/` gives everything.
    let nested = v2.read(&strings(&["/nested"])).unwrap();
    assert_eq!(
        pairs(&nested),
        [("/nested/east/app1", "10.0.1.10:8080"), ("/nested/west/app2", "10.0.1.11:8080")]
    );
    assert_eq!(v2.read(&strings(&["/"])).unwrap().len(), 10);
    // A value with every awkward byte round-trips; a key with a space too.
    gw.v2_set("/odd/a b", "x=1&y=%2F\n\"quoted\" é").unwrap();
    let odd = v2.read(&strings(&["/odd/a b"])).unwrap();
    assert_eq!(pairs(&odd), [("/odd/a b", "x=1&y=%2F\n\"quoted\" é")]);
}

#[test]
fn a_tree_deeper_than_one_json_answer_allows_is_read_level_by_level() {
    let etcd = v2_cluster(1);
    let mut gw = Gateway::new(&etcd.endpoints()[0]);
    let deep = format!("/deep{}", "/d".repeat(80));
    gw.v2_set(&format!("{deep}/leaf"), "bottom").unwrap();
    gw.v2_set("/deep/top", "top").unwrap();
    let kvs = client(etcd.endpoints()).read(&strings(&["/deep"])).unwrap();
    assert_eq!(kvs.get(&format!("{deep}/leaf")).map(String::as_str), Some("bottom"));
    assert_eq!(kvs.get("/deep/top").map(String::as_str), Some("top"));
    assert_eq!(kvs.len(), 2);
}

#[test]
fn watch_reports_changes_below_its_keys_only() {
    let etcd = v2_cluster(1);
    let mut gw = Gateway::new(&etcd.endpoints()[0]);
    gw.v2_set("/app/a/x", "1").unwrap();
    let v2 = client(etcd.endpoints());
    let (tx, rx) = mpsc::channel();
    let _stop = v2.watch(strings(&["/app/a", "/app/b"]), tx).unwrap();
    assert!(matches!(rx.recv_timeout(Duration::from_secs(1)), Ok(Notice::Up { .. })));
    assert!(matches!(rx.recv_timeout(Duration::from_secs(1)), Ok(Notice::Changed)));

    gw.v2_set("/app/a/x", "2").unwrap();
    assert!(next_change(&rx, Duration::from_secs(2)).is_some(), "a set below /app/a");
    gw.v2_set("/app/c", "unrelated").unwrap(); // inside the polled /app, but no key's
    gw.v2_set("/elsewhere", "unrelated").unwrap();
    assert!(next_change(&rx, Duration::from_millis(700)).is_none(), "unrelated changes");
    gw.v2_rm("/app").unwrap(); // a directory above the keys
    assert!(next_change(&rx, Duration::from_secs(2)).is_some(), "removing /app");
    gw.v2_set("/app/b/new", "3").unwrap();
    assert!(next_change(&rx, Duration::from_secs(2)).is_some(), "a new key below /app/b");
}

/// Over 1,000 events elsewhere while the watch waits: etcd clears the watch's index from its
/// history; the next poll (after the quiet-poll refresh) learns so, resumes at etcd's current
/// index and reports a change, so everything is read again.
#[test]
fn a_cleared_index_resumes_with_a_change() {
    let etcd = v2_cluster(1);
    let mut gw = Gateway::new(&etcd.endpoints()[0]);
    gw.v2_set("/quiet/k", "1").unwrap();
    let v2 = client(etcd.endpoints());
    let (tx, rx) = mpsc::channel();
    let _stop = v2.watch(strings(&["/quiet"]), tx).unwrap();
    drain(&rx);
    for i in 0..1100 {
        gw.v2_set(&format!("/busy/{}", i % 10), &i.to_string()).unwrap();
    }
    // The waiting poll is refreshed after 10 s of quiet; its index is then cleared.
    assert!(next_change(&rx, Duration::from_secs(20)).is_some(), "no resync");
    gw.v2_set("/quiet/k", "2").unwrap();
    assert!(next_change(&rx, Duration::from_secs(2)).is_some(), "watching again after it");
}

#[test]
fn watch_survives_a_restarted_member_and_says_so_once() {
    let etcd = v2_cluster(1);
    let mut gw = Gateway::new(&etcd.endpoints()[0]);
    gw.v2_set("/svc/a", "1").unwrap();
    let v2 = client(etcd.endpoints());
    let (tx, rx) = mpsc::channel();
    let _stop = v2.watch(strings(&["/svc"]), tx).unwrap();
    drain(&rx);

    etcd.member(0).kill();
    let down = rx.recv_timeout(Duration::from_secs(5)).expect("a Down");
    match down {
        Notice::Down { error } => assert!(error.to_string().contains(&etcd.endpoints()[0])),
        other => panic!("expected Down, got {other:?}"),
    }
    std::thread::sleep(Duration::from_secs(2)); // retrying meanwhile: no second Down
    etcd.member(0).restart();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !matches!(seen.last(), Some(Notice::Changed)) && Instant::now() < deadline {
        if let Ok(n) = rx.recv_timeout(Duration::from_millis(200)) {
            seen.push(n);
        }
    }
    assert!(
        matches!(seen.as_slice(), [Notice::Up { .. }, Notice::Changed]),
        "after the restart: {seen:?}"
    );
    Gateway::new(&etcd.endpoints()[0]).v2_set("/svc/b", "2").unwrap();
    assert!(next_change(&rx, Duration::from_secs(2)).is_some());
}

/// The first member hung (SIGSTOP): reads and the watch go to the next one after the header
/// timeout. Then the member that answered dies: the next read moves on again. (Quorum reads
/// need two of the three members alive.)
#[test]
fn reads_and_watches_fail_over_past_a_hung_and_a_dead_member() {
    let etcd = v2_cluster(3);
    let mut gw = Gateway::new(&etcd.endpoints()[2]);
    gw.v2_set("/fo/a", "1").unwrap();
    etcd.member(0).pause();
    let v2 = client(etcd.endpoints());
    assert_eq!(pairs(&v2.read(&strings(&["/fo"])).unwrap()), [("/fo/a", "1")]);
    let (tx, rx) = mpsc::channel();
    let _stop = v2.watch(strings(&["/fo"]), tx).unwrap();
    drain(&rx);
    gw.v2_set("/fo/b", "2").unwrap();
    assert!(next_change(&rx, Duration::from_secs(3)).is_some());
    etcd.member(0).resume();
    etcd.member(1).kill();
    let kvs = v2.read(&strings(&["/fo"])).unwrap();
    assert_eq!(pairs(&kvs), [("/fo/a", "1"), ("/fo/b", "2")]);
}

/// The seed's v2 authorisation: `auth enable`, the guest role's access revoked, a role with
/// read-write on `/p/a*` and `/p/b*` only (a v2 path grant covers the keys that start with
/// it; `/p/a/*` would not cover the directory `/p/a` itself, which a recursive read asks
/// for). The right user reads and watches both (one poll per key, since it may not read
/// `/p`); a wrong password is refused, naming the key.
#[test]
fn v2_users_and_roles_as_the_seed_sets_them_up() {
    let etcd = v2_cluster(1);
    etcd.enable_auth_v2("rootpw");
    let root = etcd.ctl().v2();
    root.ok(&["role", "add", "confd"]);
    root.ok(&["role", "grant", "confd", "--path", "/p/a*", "--readwrite"]);
    root.ok(&["role", "grant", "confd", "--path", "/p/b*", "--readwrite"]);
    root.ok(&["user", "add", "confd:pw"]);
    root.ok(&["user", "grant", "confd", "--roles", "confd"]);
    root.ok(&["set", "/p/a/x", "1"]);
    root.ok(&["set", "/p/b/y", "2"]);
    root.ok(&["set", "/p/secret", "s"]);

    let as_user = |password: &str| {
        EtcdV2::new(EtcdV2Config {
            nodes: etcd.endpoints(),
            username: Some("confd".into()),
            password: Some(password.into()),
            tls: None,
        })
        .unwrap()
    };
    let good = as_user("pw");
    good.probe().unwrap();
    let keys = strings(&["/p/a", "/p/b"]);
    assert_eq!(pairs(&good.read(&keys).unwrap()), [("/p/a/x", "1"), ("/p/b/y", "2")]);
    let refused = good.read(&strings(&["/p/secret"])).unwrap_err();
    assert!(matches!(refused, EtcdV2Error::Auth { .. }), "{refused}");

    let bad = as_user("b4d-pa55");
    let err = bad.read(&keys).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, EtcdV2Error::Auth { .. }), "{msg}");
    assert!(msg.contains("/p/a") && msg.contains(&etcd.endpoints()[0]), "{msg}");
    assert!(!msg.contains("b4d-pa55"), "the password is not shown: {msg}");
    let (tx, _rx) = mpsc::channel();
    assert!(matches!(bad.watch(keys.clone(), tx), Err(EtcdV2Error::Auth { .. })));

    let (tx, rx) = mpsc::channel();
    let _stop = good.watch(keys, tx).unwrap();
    drain(&rx);
    root.ok(&["set", "/p/b/z", "3"]);
    assert!(next_change(&rx, Duration::from_secs(2)).is_some(), "a change below /p/b");
}

#[test]
fn tls_with_a_client_certificate() {
    let etcd =
        EtcdCluster::start_with(EtcdOptions::new(1).tls().client_cert_auth().arg("--enable-v2"));
    let files = etcd.tls_files().expect("TLS files");
    etcd.ctl().v2().ok(&["set", "/tls/a", "1"]);
    let settings = TlsSettings {
        ca: Some(files.ca.clone()),
        cert: Some(files.cert.clone()),
        key: Some(files.key.clone()),
    };
    let cfg = EtcdV2Config { nodes: etcd.endpoints(), tls: Some(settings), ..Default::default() };
    let v2 = EtcdV2::new(cfg).unwrap();
    assert!(etcd.endpoints()[0].starts_with("https://"));
    assert_eq!(pairs(&v2.read(&strings(&["/tls"])).unwrap()), [("/tls/a", "1")]);
    let (tx, rx) = mpsc::channel();
    let _stop = v2.watch(strings(&["/tls"]), tx).unwrap();
    drain(&rx);
    etcd.ctl().v2().ok(&["set", "/tls/b", "2"]);
    assert!(next_change(&rx, Duration::from_secs(2)).is_some());
    // Without the client certificate etcd refuses the handshake: unreachable, named.
    let cfg = EtcdV2Config {
        nodes: etcd.endpoints(),
        tls: Some(TlsSettings { ca: Some(files.ca.clone()), ..Default::default() }),
        ..Default::default()
    };
    let err = EtcdV2::new(cfg).unwrap().read(&strings(&["/tls"])).unwrap_err();
    assert!(err.to_string().contains(&etcd.endpoints()[0]), "{err}");
}

#[test]
fn an_etcd_without_the_v2_api_and_no_etcd_at_all_are_told_apart() {
    let etcd = EtcdCluster::start(1);
    let err = client(etcd.endpoints()).probe().unwrap_err();
    assert!(err.to_string().contains("--enable-v2"), "{err}");
    assert!(!err.is_unreachable());
    let port = testkit::free_port();
    let nobody = client(vec![format!("http://127.0.0.1:{port}")]);
    let err = nobody.probe().unwrap_err();
    assert!(err.is_unreachable() && err.to_string().contains(&port.to_string()), "{err}");
    // The watch of an unreachable etcd starts anyway, says Down, and retries.
    let (tx, rx) = mpsc::channel();
    let _stop = nobody.watch(strings(&["/x"]), tx).unwrap();
    assert!(matches!(rx.recv_timeout(Duration::from_secs(2)), Ok(Notice::Down { .. })));
    assert!(rx.recv_timeout(Duration::from_secs(1)).is_err(), "Down is said once");
}

//! The redis backend against real redis-server 7.0 (`testkit::redis`), on loopback only.
//!
//! Reads use confd's integration data set (`/key`, `/database/*`, `/upstream/*`) stored every
//! way confd reads it; watches check what the daemon relies on: `Up` + `Changed` once armed,
//! `Changed` for changes under the keys and not for others, `Down` and recovery after a
//! restart, a hung server, or a server that was not there at start.

use std::collections::BTreeMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use confd_backend::notify::Notice;
use confd_redis::{Redis, RedisConfig, RedisError};
use testkit::redis::{RedisOptions, RedisServer};

/// How long a change may take to be reported: the watch reports in milliseconds; the rest is
/// margin for a loaded 2-core machine running many tests.
const NOTIFY_WITHIN: Duration = Duration::from_secs(2);
/// How long to listen for a notice that must not come.
const QUIET: Duration = Duration::from_millis(500);

const KEYS: [&str; 3] = ["/database", "/key", "/upstream"];

fn keys() -> Vec<String> {
    KEYS.iter().map(|k| k.to_string()).collect()
}

fn config(nodes: &[&str]) -> RedisConfig {
    RedisConfig { nodes: nodes.iter().map(|n| n.to_string()).collect(), ..Default::default() }
}

fn redis(nodes: &[&str]) -> Redis {
    Redis::new(config(nodes)).expect("valid nodes")
}

/// confd's integration data set, as confd keys and values.
fn confd_data() -> BTreeMap<String, String> {
    // confd's redis script writes the set without the nested leaves.
    testkit::CONFD_DATA_SET
        .into_iter()
        .filter(|(k, _)| !k.starts_with("/nested/"))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Stores the data set as plain strings in database `db`, keys mapped with `sep`.
fn load_strings(server: &RedisServer, db: u32, sep: &str) {
    for (key, value) in confd_data() {
        let key = if sep == "/" { key } else { key[1..].replace('/', sep) };
        server.cli_db(db, &["SET", &key, &value]);
    }
}

/// The next notice matching `want` within `within` (others are skipped); panics naming `what`.
fn expect(rx: &Receiver<Notice>, within: Duration, what: &str, want: fn(&Notice) -> bool) {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(n) if want(&n) => return,
            Ok(n) => seen.push(n),
            Err(e) => panic!("no {what} within {within:?} ({e:?}); got {seen:?}"),
        }
    }
}

fn is_changed(n: &Notice) -> bool {
    matches!(n, Notice::Changed)
}

fn is_up(n: &Notice) -> bool {
    matches!(n, Notice::Up { .. })
}

fn is_down(n: &Notice) -> bool {
    matches!(n, Notice::Down { .. })
}

/// Asserts that no `Changed` comes for [`QUIET`].
fn assert_quiet(rx: &Receiver<Notice>, after: &str) {
    let deadline = Instant::now() + QUIET;
    while let Ok(n) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        assert!(!is_changed(&n), "a Changed after {after}");
    }
}

/// Starts a watch of `keys` and checks the start-up notices: `Up` at the server, then `Changed`.
fn watch_up(
    client: &Redis,
    keys: Vec<String>,
) -> (confd_backend::notify::WatchStop, Receiver<Notice>) {
    let (tx, rx) = mpsc::channel();
    let stop = client.watch(keys, tx).expect("watch starts");
    match rx.try_recv() {
        Ok(Notice::Up { endpoint }) => assert_eq!(endpoint, client.endpoints()[0]),
        other => panic!("expected Up first, got {other:?}"),
    }
    assert!(matches!(rx.try_recv(), Ok(Notice::Changed)), "Changed right after Up");
    (stop, rx)
}

fn events_on() -> RedisOptions {
    RedisOptions::default().notify("K$ghx")
}

// ---- reads ----

#[test]
fn reads_confd_data_set_stored_as_strings() {
    let server = RedisServer::start(RedisOptions::default());
    load_strings(&server, 0, "/");
    server.cli(&["SET", "/other", "not asked for"]);
    // An empty password means none (no AUTH, which this server would refuse), as in confd.
    let cfg = RedisConfig { password: Some(String::new()), ..config(&[&server.addr()]) };
    let client = Redis::new(cfg).unwrap();
    client.probe().expect("probe");
    assert_eq!(client.read(&keys()).expect("read"), confd_data());
    // confd's `/*` suffix and a trailing `/` mean the same keys.
    let star = client.read(&["/database/*".to_string(), "/upstream/".to_string()]).unwrap();
    assert_eq!(star.len(), 6, "{star:?}");
    assert_eq!(star.get("/database/port").map(String::as_str), Some("3306"));
}

#[test]
fn reads_a_hash_as_one_key_per_field() {
    let server = RedisServer::start(RedisOptions::default());
    let data = confd_data();
    server.cli(&["SET", "/key", &data["/key"]]);
    for (field, key) in [("host", "/database/host"), ("password", "/database/password")] {
        server.cli(&["HSET", "/database", field, &data[key]]);
    }
    for (field, key) in [("port", "/database/port"), ("username", "/database/username")] {
        server.cli(&["HSET", "/database", field, &data[key]]);
    }
    server.cli(&["SET", "/upstream/app1", &data["/upstream/app1"]]);
    server.cli(&["SET", "/upstream/app2", &data["/upstream/app2"]]);
    let client = redis(&[&server.addr()]);
    assert_eq!(client.read(&keys()).unwrap(), data);
}

#[test]
fn root_reads_everything_and_other_types_are_left_out() {
    let server = RedisServer::start(RedisOptions::default());
    load_strings(&server, 0, "/");
    server.cli(&["SET", "plain", "x"]);
    server.cli(&["RPUSH", "/database/list", "a", "b"]);
    server.cli(&["SADD", "/upstream/set", "a"]);
    let client = redis(&[&server.addr()]);
    let mut want = confd_data();
    want.insert("/plain".into(), "x".into());
    assert_eq!(client.read(&["/".to_string()]).unwrap(), want);
    assert_eq!(client.read(&keys()).unwrap(), confd_data());
    assert_eq!(client.read(&["/database/list".to_string()]).unwrap(), BTreeMap::new());
}

#[test]
fn database_number_selects_the_database() {
    let server = RedisServer::start(events_on());
    load_strings(&server, 3, "/");
    server.cli(&["SET", "/key", "from db 0"]);
    let db3 = format!("{}/3", server.addr());
    let client = redis(&[&db3]);
    assert_eq!(client.read(&keys()).unwrap(), confd_data());
    let db0 = redis(&[&server.addr()]);
    let only = BTreeMap::from([("/key".to_string(), "from db 0".to_string())]);
    assert_eq!(db0.read(&keys()).unwrap(), only);

    // The watch listens to database 3's channel only.
    let (_stop, rx) = watch_up(&client, vec!["/key".into()]);
    server.cli(&["SET", "/key", "again, db 0"]);
    assert_quiet(&rx, "a change in database 0");
    server.cli_db(3, &["SET", "/key", "changed"]);
    expect(&rx, NOTIFY_WITHIN, "Changed for database 3", is_changed);

    let e = redis(&[&format!("{}/99", server.addr())]).read(&keys()).unwrap_err();
    assert!(matches!(e, RedisError::Database { db: 99, .. }), "{e:?}");
    assert!(e.to_string().contains(&format!("{}/99", server.addr())), "{e}");
}

#[test]
fn password_right_wrong_and_missing() {
    let password = "pw-Sup3r-s3cret";
    let server = RedisServer::start(RedisOptions::default().password(password));
    load_strings(&server, 0, "/");
    let with = |pw: Option<&str>| {
        Redis::new(RedisConfig { password: pw.map(Into::into), ..config(&[&server.addr()]) })
            .unwrap()
    };
    assert_eq!(with(Some(password)).read(&keys()).unwrap(), confd_data());

    let wrong = with(Some("not-the-password"));
    let e = wrong.probe().unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, RedisError::Auth { .. }), "{e:?}");
    assert!(!e.is_unreachable());
    assert!(text.contains(&server.addr()) && text.contains("WRONGPASS"), "{text}");
    assert!(!text.contains("not-the-password") && !format!("{e:?}").contains("not-the-password"));
    assert!(!format!("{wrong:?}").contains("not-the-password"));
    let (tx, _rx) = mpsc::channel();
    assert!(matches!(wrong.watch(keys(), tx), Err(RedisError::Auth { .. })));

    let e = with(None).read(&keys()).unwrap_err();
    assert!(matches!(e, RedisError::AuthRequired { .. }), "{e:?}");
    assert!(e.to_string().contains(&server.addr()), "{e}");
}

#[test]
fn acl_user_and_password() {
    let server =
        RedisServer::start(events_on().password("admin-pw").user("confd on >user-pw ~* &* +@all"));
    load_strings(&server, 0, "/");
    let cfg = |user: &str, pw: &str| RedisConfig {
        username: Some(user.into()),
        password: Some(pw.into()),
        ..config(&[&server.addr()])
    };
    let client = Redis::new(cfg("confd", "user-pw")).unwrap();
    assert_eq!(client.read(&keys()).unwrap(), confd_data());
    let (_stop, _rx) = watch_up(&client, keys());
    let e = Redis::new(cfg("confd", "admin-pw")).unwrap().probe().unwrap_err();
    assert!(matches!(e, RedisError::Auth { .. }), "{e:?}");
    assert!(!e.to_string().contains("admin-pw"));
}

#[test]
fn separator_maps_keys_both_ways() {
    let server = RedisServer::start(events_on());
    load_strings(&server, 0, ":");
    server.cli(&["HSET", "app", "port", "8080"]);
    let client =
        Redis::new(RedisConfig { separator: ":".into(), ..config(&[&server.addr()]) }).unwrap();
    assert_eq!(server.cli(&["GET", "database:host"]), "127.0.0.1");
    assert_eq!(client.read(&keys()).unwrap(), confd_data());
    let app = client.read(&["/app".to_string()]).unwrap();
    assert_eq!(app, BTreeMap::from([("/app/port".to_string(), "8080".to_string())]));

    let (_stop, rx) = watch_up(&client, vec!["/database".into()]);
    server.cli(&["SET", "upstream:app1", "10.0.0.1:80"]);
    assert_quiet(&rx, "a change outside /database");
    server.cli(&["SET", "database:host", "10.0.0.2"]);
    expect(&rx, NOTIFY_WITHIN, "Changed for database:host", is_changed);
}

#[test]
fn unix_socket_node() {
    let server = RedisServer::start(events_on().unix_socket());
    load_strings(&server, 0, "/");
    let socket = server.socket().to_string_lossy().into_owned();
    let client = redis(&[&socket]);
    assert_eq!(client.endpoints(), vec![socket.clone()]);
    assert_eq!(client.read(&keys()).unwrap(), confd_data());
    let (_stop, rx) = watch_up(&client, keys());
    server.cli(&["SET", "/key", "changed"]);
    expect(&rx, NOTIFY_WITHIN, "Changed over the socket", is_changed);
}

#[test]
fn prefixes_are_path_aware_and_glob_characters_literal() {
    let server = RedisServer::start(RedisOptions::default());
    for (k, v) in [
        ("/upstream/app1", "1"),
        ("/upstreamX/a", "2"),
        ("/a*b/x", "3"),
        ("/aXb/y", "4"),
        ("/s[1]/x", "5"),
        ("/s1/x", "6"),
        ("/q?/x", "7"),
        ("/qq/x", "8"),
    ] {
        server.cli(&["SET", k, v]);
    }
    let client = redis(&[&server.addr()]);
    let read = |key: &str| client.read(&[key.to_string()]).unwrap().into_keys().collect::<Vec<_>>();
    assert_eq!(read("/upstream"), ["/upstream/app1"]);
    assert_eq!(read("/a*b"), ["/a*b/x"]);
    assert_eq!(read("/s[1]"), ["/s[1]/x"]);
    assert_eq!(read("/q?"), ["/q?/x"]);
}

#[test]
fn non_utf8_keys_and_values_are_replaced() {
    let server = RedisServer::start(RedisOptions::default());
    server.cmd(0, &[b"SET", b"/bin/value", b"ok\xff\xfe"]);
    server.cmd(0, &[b"SET", b"/bin/\xffkey", b"v"]);
    server.cmd(0, &[b"SET", b"/str", b"\xc3\x28"]);
    let client = redis(&[&server.addr()]);
    let got = client.read(&["/bin".to_string(), "/str".to_string()]).unwrap();
    let want = BTreeMap::from([
        ("/bin/value".to_string(), "ok\u{fffd}\u{fffd}".to_string()),
        ("/bin/\u{fffd}key".to_string(), "v".to_string()),
        ("/str".to_string(), "\u{fffd}(".to_string()),
    ]);
    assert_eq!(got, want);
}

#[test]
fn nodes_are_tried_in_order() {
    let server = RedisServer::start(RedisOptions::default());
    load_strings(&server, 0, "/");
    let dead = format!("127.0.0.1:{}", testkit::free_port());
    let client = redis(&[&dead, &server.addr()]);
    assert_eq!(client.endpoints(), [dead.clone(), server.addr()]);
    assert_eq!(client.read(&keys()).unwrap(), confd_data());

    let dead2 = format!("127.0.0.1:{}", testkit::free_port());
    let e = redis(&[&dead, &dead2]).probe().unwrap_err();
    assert!(e.is_unreachable(), "{e:?}");
    let text = e.to_string();
    assert!(text.contains(&dead) && text.contains(&dead2), "{text}");
}

#[test]
fn a_read_after_a_restart_reconnects() {
    let server = RedisServer::start(RedisOptions::default());
    load_strings(&server, 0, "/");
    let client = redis(&[&server.addr()]);
    assert_eq!(client.read(&keys()).unwrap(), confd_data());
    server.restart();
    load_strings(&server, 0, "/");
    // The kept connection is dead; the read retries once on a new one.
    assert_eq!(client.read(&keys()).unwrap(), confd_data());
}

#[test]
fn a_hung_server_fails_a_read_in_time() {
    let server = RedisServer::start(RedisOptions::default());
    load_strings(&server, 0, "/");
    let client = redis(&[&server.addr()]);
    client.probe().unwrap();
    server.pause();
    let start = Instant::now();
    let e = client.read(&keys()).unwrap_err();
    let took = start.elapsed();
    server.resume();
    assert!(e.is_unreachable(), "{e:?}");
    assert!(e.to_string().contains("timed out"), "{e}");
    assert!(took < Duration::from_secs(10), "read took {took:?}");
    assert_eq!(client.read(&keys()).unwrap(), confd_data());
}

#[test]
fn unreachable_at_start_then_the_server_comes() {
    let port = testkit::free_port();
    let addr = format!("127.0.0.1:{port}");
    let client = redis(&[&addr]);
    let e = client.probe().unwrap_err();
    assert!(e.is_unreachable(), "{e:?}");
    assert!(e.to_string().contains(&addr), "{e}");

    let (tx, rx) = mpsc::channel();
    let _stop = client.watch(keys(), tx).expect("an unreachable server is not an error");
    expect(&rx, Duration::ZERO, "Down", is_down);
    let server = RedisServer::start(events_on().port(port));
    expect(&rx, Duration::from_secs(10), "Up", is_up);
    expect(&rx, NOTIFY_WITHIN, "Changed after Up", is_changed);
    server.cli(&["SET", "/key", "x"]);
    expect(&rx, NOTIFY_WITHIN, "Changed", is_changed);
}

// ---- watch ----

#[test]
fn watch_reports_changes_under_its_keys_only() {
    let server = RedisServer::start(events_on());
    load_strings(&server, 0, "/");
    let client = redis(&[&server.addr()]);
    let (_stop, rx) = watch_up(&client, keys());

    server.cli(&["SET", "/unrelated", "x"]);
    server.cli(&["SET", "/other/database", "x"]);
    assert_quiet(&rx, "changes outside the keys");

    let steps: [&[&str]; 5] = [
        &["SET", "/database/host", "10.0.0.1"],
        &["HSET", "/upstream", "app3", "x"],
        &["DEL", "/key"],
        &["RENAME", "/database/port", "/database/p"],
        &["EXPIRE", "/upstream/app1", "100"],
    ];
    for step in steps {
        server.cli(step);
        expect(&rx, NOTIFY_WITHIN, &format!("Changed for {step:?}"), is_changed);
    }
    // Expiry itself (`x`), some time after the PEXPIRE's own event.
    server.cli(&["PEXPIRE", "/upstream/app2", "300"]);
    expect(&rx, NOTIFY_WITHIN, "Changed for PEXPIRE", is_changed);
    expect(&rx, Duration::from_secs(5), "Changed for the expiry", is_changed);
    assert_eq!(server.cli(&["EXISTS", "/upstream/app2"]), "0");
}

#[test]
fn a_burst_of_changes_is_reported_and_reading_after_it_sees_the_last() {
    let server = RedisServer::start(events_on());
    let client = redis(&[&server.addr()]);
    let (_stop, rx) = watch_up(&client, vec!["/app".into()]);
    for i in 0..200 {
        server.cli(&["SET", "/app/n", &i.to_string()]);
    }
    expect(&rx, NOTIFY_WITHIN, "Changed for the burst", is_changed);
    // Whatever the notices were, once they stop a read sees the final value.
    while rx.recv_timeout(QUIET).is_ok() {}
    assert_eq!(client.read(&["/app".into()]).unwrap()["/app/n"], "199");
}

#[test]
fn watch_refuses_a_server_without_keyspace_events() {
    let server = RedisServer::start(RedisOptions::default().notify("Ex"));
    let client = redis(&[&server.addr()]);
    let (tx, rx) = mpsc::channel();
    let e = client.watch(keys(), tx).unwrap_err();
    let text = e.to_string();
    assert!(matches!(&e, RedisError::KeyspaceEventsOff { have, .. } if have == "xE"), "{e:?}");
    assert!(!e.is_unreachable());
    assert!(text.contains(&server.addr()), "{text}");
    assert!(text.contains("CONFIG SET notify-keyspace-events xEK$gh"), "{text}");
    assert!(
        matches!(rx.recv_timeout(Duration::from_secs(2)), Err(RecvTimeoutError::Disconnected)),
        "the thread ends without a notice"
    );
    server.cli(&["CONFIG", "SET", "notify-keyspace-events", "KA"]);
    let (_stop, _rx) = watch_up(&client, keys());
}

#[test]
fn keyspace_events_switched_off_later_are_reported_and_awaited() {
    let server = RedisServer::start(events_on());
    let client = redis(&[&server.addr()]);
    let (_stop, rx) = watch_up(&client, keys());
    server.cli(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    server.cli(&["CLIENT", "KILL", "TYPE", "pubsub"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Notice::Down { error }) if error.to_string().contains("K$ghx") => break,
            Ok(_) => {}
            Err(e) => panic!("no Down naming the keyspace events: {e:?}"),
        }
    }
    server.cli(&["CONFIG", "SET", "notify-keyspace-events", "K$ghx"]);
    expect(&rx, Duration::from_secs(10), "Up once events are back", is_up);
    expect(&rx, NOTIFY_WITHIN, "Changed after Up", is_changed);
}

#[test]
fn watch_goes_on_where_config_get_is_refused() {
    let server =
        RedisServer::start(events_on().password("admin").user("confd on >pw ~* &* +@all -config"));
    let client = Redis::new(RedisConfig {
        username: Some("confd".into()),
        password: Some("pw".into()),
        ..config(&[&server.addr()])
    })
    .unwrap();
    let (_stop, rx) = watch_up(&client, keys());
    server.cli(&["SET", "/key", "changed"]);
    expect(&rx, NOTIFY_WITHIN, "Changed", is_changed);
}

#[test]
fn watch_survives_a_restart() {
    let server = RedisServer::start(events_on());
    let client = redis(&[&server.addr()]);
    let (_stop, rx) = watch_up(&client, keys());
    server.kill();
    expect(&rx, Duration::from_secs(5), "Down after the kill", is_down);
    server.start_again();
    expect(&rx, Duration::from_secs(10), "Up after the restart", is_up);
    expect(&rx, NOTIFY_WITHIN, "Changed after Up", is_changed);
    server.cli(&["SET", "/database/host", "x"]);
    expect(&rx, NOTIFY_WITHIN, "Changed after the restart", is_changed);
}

#[test]
fn watch_notices_a_hung_server() {
    let server = RedisServer::start(events_on());
    let client = redis(&[&server.addr()]);
    let (_stop, rx) = watch_up(&client, keys());
    server.pause();
    // Found by the PING after 10 s of silence, which gets no answer within 1 s. (Dropping
    // the server resumes it, should this fail.)
    expect(&rx, Duration::from_secs(20), "Down for a hung server", is_down);
    server.resume();
    expect(&rx, Duration::from_secs(15), "Up after resuming", is_up);
    expect(&rx, NOTIFY_WITHIN, "Changed after Up", is_changed);
}

#[test]
fn stopping_the_watch_ends_its_thread() {
    let server = RedisServer::start(events_on());
    let client = redis(&[&server.addr()]);
    let (stop, rx) = watch_up(&client, keys());
    drop(stop);
    // The thread holds the only Sender: the channel closes when it ends.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => panic!("the watch thread still runs"),
            Ok(_) => {}
        }
    }
    assert_eq!(server.cli(&["PUBSUB", "NUMPAT"]), "0");
}

//! `-watch` on the stores whose watch reports "something changed" — redis, zookeeper and the
//! etcd v2 API — through the real binary against the real servers (Debian's redis-server and
//! zookeeper; etcd 3.4 with `--enable-v2`), each one the same scenario:
//!
//! - the first render holds the store's state; a change is rendered within the batching time;
//! - the server killed mid-run: dest stays as it was (no reload), the outage is logged once,
//!   the daemon keeps running; the server back (same data): a change made then is rendered;
//! - a wrong password (redis, etcd v2) and an unreachable server: one clear error naming the
//!   server, exit 1, nothing written — in `-onetime`, and in `-watch` for a refusal.

mod common;

use std::time::Duration;

use common::etcd::*;
use common::{Daemon, Sandbox, EVENT_TIMEOUT};
use testkit::gateway::Gateway;
use testkit::redis::{RedisOptions, RedisServer};
use testkit::zookeeper::ZookeeperServer;
use testkit::{EtcdCluster, EtcdOptions};

/// Writes a key's value into the store.
type Write<'a> = Box<dyn Fn(&str, &str) + 'a>;

/// One store, as the scenario drives it.
struct Store<'a> {
    backend: &'a str,
    nodes: Vec<String>,
    extra: Vec<&'a str>,
    write: Write<'a>,
    /// Stops the server hard (its data kept for `restart`).
    kill: Box<dyn Fn() + 'a>,
    restart: Box<dyn Fn() + 'a>,
}

fn start_watching(sb: &Sandbox, store: &Store<'_>) -> Daemon {
    add_resource(sb, "app", &["/app"], &listing_template("/app/*"), "reloads");
    (store.write)("/app/a", "1");
    (store.write)("/elsewhere", "0");
    let mut extra = vec!["-watch"];
    extra.extend(store.extra.iter().copied());
    let mut confd = sb.spawn(confd_cmd(sb, store.backend, &store.nodes, &extra));
    wait_for_file(sb, &mut confd, "out/app.conf", "/app/a=1\n", EVENT_TIMEOUT);
    wait_for_lines(sb, &confd, "reloads", 1, EVENT_TIMEOUT);
    confd
}

fn watch_scenario(store: Store<'_>) {
    let sb = Sandbox::new();
    let mut confd = start_watching(&sb, &store);

    (store.write)("/app/b", "2");
    wait_for_file(&sb, &mut confd, "out/app.conf", "/app/a=1\n/app/b=2\n", EVENT_TIMEOUT);
    wait_for_lines(&sb, &confd, "reloads", 2, EVENT_TIMEOUT);
    (store.write)("/elsewhere", "1"); // not a key of the resource: nothing to render
    std::thread::sleep(BATCH_WINDOW);
    assert_eq!(lines(&sb, "reloads"), 2);
    assert!(errors(&confd.stderr()).is_empty(), "stderr:\n{}", confd.stderr());

    let mtime = || std::fs::metadata(sb.path("out/app.conf")).unwrap().modified().unwrap();
    let before = mtime();
    (store.kill)();
    let reported = testkit::wait_until(EVENT_TIMEOUT, || !errors(&confd.stderr()).is_empty());
    assert!(reported, "the outage was not logged; stderr:\n{}", confd.stderr());
    std::thread::sleep(Duration::from_secs(4)); // retrying meanwhile
    confd.assert_running();
    let stderr = confd.stderr();
    let errs = errors(&stderr);
    assert_eq!(errs.len(), 1, "the outage is logged once; stderr:\n{stderr}");
    let named = store.nodes[0].trim_start_matches("http://");
    assert!(errs[0].contains(named), "names the server: {}", errs[0]);
    assert_eq!(mtime(), before, "dest rewritten while the store was down");
    assert_eq!(sb.read("out/app.conf"), "/app/a=1\n/app/b=2\n");
    assert_eq!(lines(&sb, "reloads"), 2);

    (store.restart)();
    (store.write)("/app/c", "3");
    let want = "/app/a=1\n/app/b=2\n/app/c=3\n";
    wait_for_file(&sb, &mut confd, "out/app.conf", want, RECOVERY_TIMEOUT);
    wait_for_lines(&sb, &confd, "reloads", 3, EVENT_TIMEOUT);
    confd.assert_running();
    assert_eq!(errors(&confd.stderr()).len(), 1, "stderr:\n{}", confd.stderr());
    assert!(confd.stderr().contains("again"), "the recovery is logged:\n{}", confd.stderr());
}

/// `-onetime` and `-watch` with `args`: exit 1, one distinct error containing every `parts`,
/// nothing written.
fn one_clear_error(backend: &str, nodes: &[String], args: &[&str], modes: &[&str], parts: &[&str]) {
    for mode in modes {
        let sb = Sandbox::new();
        add_resource(&sb, "app", &["/app"], &listing_template("/app/*"), "reloads");
        let mut extra = vec![*mode];
        extra.extend(args);
        let run = sb.run(confd_cmd(&sb, backend, nodes, &extra));
        run.assert_code(1);
        let errs = distinct_errors(&run.stderr);
        assert_eq!(errs.len(), 1, "{backend} {mode}: one error; stderr:\n{}", run.stderr);
        for part in parts {
            assert!(errs[0].contains(part), "{backend} {mode}: {part:?} in {}", errs[0]);
        }
        assert!(run.elapsed < Duration::from_secs(15), "took {:?}", run.elapsed);
        assert!(!sb.exists("out/app.conf") && !sb.exists("reloads"));
    }
}

fn unreachable_node(scheme: &str) -> Vec<String> {
    vec![format!("{scheme}127.0.0.1:{}", testkit::free_port())]
}

#[test]
fn redis_watch_renders_changes_and_survives_a_restart() {
    let redis = RedisServer::start(RedisOptions::default().notify("K$ghx"));
    watch_scenario(Store {
        backend: "redis",
        nodes: vec![redis.addr()],
        extra: vec![],
        write: Box::new(|k, v| drop(redis.cli(&["SET", k, v]))),
        kill: Box::new(|| {
            redis.cli(&["SAVE"]); // the data survives the restart, as with persistence on
            redis.kill();
        }),
        restart: Box::new(|| redis.start_again()),
    });
}

#[test]
fn redis_wrong_password_unreachable_and_notifications_off_are_one_clear_error() {
    let redis = RedisServer::start(RedisOptions::default().password("right").notify("K$ghx"));
    let nodes = vec![redis.addr()];
    let modes = ["-onetime", "-watch"];
    one_clear_error("redis", &nodes, &["-password", "wrong"], &modes, &[&redis.addr(), "password"]);
    let nowhere = unreachable_node("");
    one_clear_error("redis", &nowhere, &[], &["-onetime"], &[&nowhere[0]]);
    let quiet = RedisServer::start(RedisOptions::default());
    let nodes = vec![quiet.addr()];
    one_clear_error("redis", &nodes, &[], &["-watch"], &[&quiet.addr(), "notify-keyspace-events"]);
}

#[test]
fn zookeeper_watch_renders_changes_and_survives_a_restart() {
    let zk = ZookeeperServer::start();
    watch_scenario(Store {
        backend: "zookeeper",
        nodes: vec![zk.addr()],
        extra: vec![],
        write: Box::new(|k, v| zk.put(k, v)),
        kill: Box::new(|| zk.stop()),
        restart: Box::new(|| zk.restart()),
    });
}

#[test]
fn zookeeper_unreachable_is_one_clear_error() {
    let nowhere = unreachable_node("");
    one_clear_error("zookeeper", &nowhere, &[], &["-onetime"], &[&nowhere[0]]);
}

#[test]
fn etcd_v2_watch_renders_changes_and_survives_a_restart() {
    let etcd = EtcdCluster::start_with(EtcdOptions::new(1).arg("--enable-v2"));
    let endpoint = etcd.endpoints()[0].clone();
    watch_scenario(Store {
        backend: "etcdv2",
        nodes: etcd.endpoints(),
        extra: vec![],
        write: Box::new(|k, v| Gateway::new(&endpoint).v2_set(k, v).unwrap()),
        kill: Box::new(|| etcd.member(0).kill()),
        restart: Box::new(|| etcd.member(0).restart()),
    });
}

/// The seed's v2 authorisation (users, roles, guest revoked): the right user renders; a wrong
/// password is one clear error; an etcd without the v2 API and no etcd at all are told apart.
#[test]
fn etcd_v2_auth_and_unreachable_are_one_clear_error() {
    let etcd = EtcdCluster::start_with(EtcdOptions::new(1).arg("--enable-v2"));
    etcd.enable_auth_v2("rootpw");
    let root = etcd.ctl().v2();
    root.ok(&["role", "add", "confd"]);
    root.ok(&["role", "grant", "confd", "--path", "/app*", "--read"]);
    root.ok(&["user", "add", "confd:pw"]);
    root.ok(&["user", "grant", "confd", "--roles", "confd"]);
    root.ok(&["set", "/app/a", "1"]);

    let sb = Sandbox::new();
    add_resource(&sb, "app", &["/app"], &listing_template("/app/*"), "reloads");
    let creds = ["-basic-auth", "-username", "confd", "-password", "pw"];
    let mut args = vec!["-onetime"];
    args.extend(creds);
    sb.run(confd_cmd(&sb, "etcdv2", &etcd.endpoints(), &args)).assert_code(0);
    assert_eq!(sb.read("out/app.conf"), "/app/a=1\n");

    let wrong = ["-basic-auth", "-username", "confd", "-password", "b4d"];
    let endpoint = etcd.endpoints()[0].clone();
    let modes = ["-onetime", "-watch"];
    one_clear_error("etcdv2", &etcd.endpoints(), &wrong, &modes, &[&endpoint, "/app"]);

    let v3_only = EtcdCluster::start(1);
    one_clear_error("etcdv2", &v3_only.endpoints(), &[], &modes, &["--enable-v2"]);
    let nowhere = unreachable_node("http://");
    one_clear_error("etcdv2", &nowhere, &[], &["-onetime"], &[&nowhere[0]]);
}

/// The seed's own etcd v2 commands, as it gives them (`etcdctl user add root:123`, `auth
/// enable`, `role add`, `role grant --path "/*" --rw`, `user add`, `user grant --roles`,
/// `etcdctl set`), plus revoking the guest role's write access, against etcd started with
/// `--enable-v2`; then `confd -onetime -backend etcdv2` as the walkthrough runs it renders the
/// seed template byte-identical to what the original confd rendered; and a client without
/// credentials may no longer write.
#[test]
fn the_seeds_own_v2_commands_work_with_etcdv2() {
    let etcd = EtcdCluster::start_with(EtcdOptions::new(1).arg("--enable-v2"));
    let v2 = || etcd.ctl().v2().anonymous();
    let root = |args: &[&str]| {
        let mut all = vec!["--username", "root:123"];
        all.extend(args);
        v2().ok(&all);
    };
    v2().ok(&["user", "add", "root:123"]);
    v2().ok(&["auth", "enable"]);
    root(&["role", "add", "test_role"]);
    root(&["role", "grant", "--path", "/*", "--rw", "test_role"]);
    root(&["user", "add", "test_user:123"]);
    root(&["user", "grant", "--roles", "test_role", "test_user"]);
    root(&["role", "revoke", "guest", "--path", "/*", "--write"]);
    let user = |args: &[&str]| {
        let mut all = vec!["--username", "test_user:123"];
        all.extend(args);
        v2().ok(&all);
    };
    user(&["set", "/service_sgin/subdomain/service1", "www.service1.com"]);
    user(&["set", "/service_sgin/upstream/service1/server1", "192.168.1.1"]);
    user(&["set", "/service_sgin/subdomain/service2", "www.service2.com  page.service2.com"]);
    user(&["set", "/service_sgin/upstream/service2/server1", "192.168.1.2"]);
    let stranger = v2().run(&["set", "/service_sgin/upstream/service1/evil", "6.6.6.6"]);
    assert!(!stranger.status.success(), "a client without credentials wrote a backend");

    let sb = Sandbox::new();
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/seed");
    let read = |name: &str| std::fs::read_to_string(seed.join(name)).unwrap();
    sb.template("seed-nginx.conf.tmpl", &read("seed-nginx.conf.tmpl"));
    let toml = read("seed-nginx.toml")
        .replace("dest = \"OUT/nginx.conf\"", &format!("dest = \"{}\"", sb.p("out/nginx.conf")));
    sb.resource("seed-nginx.toml", &toml);
    let args = ["-onetime", "-basic-auth", "-username", "test_user", "-password", "123"];
    let run = sb.run(confd_cmd(&sb, "etcdv2", &etcd.endpoints(), &args));
    run.assert_code(0);
    assert_eq!(sb.read("out/nginx.conf"), read("expected-nginx.conf"));
}

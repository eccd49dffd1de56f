//! What the reconciler decides, observed from outside with real etcd (and real nginx where
//! the server's state matters): a failed reload is rolled back and retried until it works,
//! a failed check is retried until it passes, reloads are paced by `min_reload_interval`,
//! and a wiped or rebuilt store is held (fail static) until the keys come back, the removal
//! stays the same for `hold_time`, or the operator sends SIGUSR1.

mod common;
mod seed;

use std::path::Path;
use std::time::{Duration, Instant};

use common::etcd::*;
use common::{Sandbox, EVENT_TIMEOUT};
use testkit::{wait_until, EtcdCluster};

/// One resource `app` reading `/app` into `out/app.conf`, with `extra` lines in its TOML.
fn app_resource(sb: &Sandbox, extra: &str) {
    sb.template("app.tmpl", &listing_template("/app/*"));
    sb.resource(
        "app.toml",
        &format!(
            "[template]\nsrc = \"app.tmpl\"\ndest = \"{}\"\nkeys = [\"/app\"]\n{extra}",
            sb.p("out/app.conf")
        ),
    );
}

/// A reload command that fails until the file `reload-ok` exists, and counts the reloads that
/// worked in `reloads`.
fn reload_needing_a_file(sb: &Sandbox) -> String {
    format!(
        "reload_cmd = \"test -e {ok} && echo reload >> {log}\"\n",
        ok = sb.p("reload-ok"),
        log = sb.p("reloads")
    )
}

#[test]
fn a_failed_reload_puts_the_old_file_back_and_is_retried_without_a_store_change() {
    let etcd = EtcdCluster::start(1);
    etcd.put("/app/a", "1");
    let sb = Sandbox::new();
    app_resource(&sb, &reload_needing_a_file(&sb));
    std::fs::write(sb.path("reload-ok"), "").unwrap();
    let mut confd = sb.spawn(confd_cmd(&sb, "etcdv3", &etcd.endpoints(), &["-watch"]));
    wait_for_file(&sb, &mut confd, "out/app.conf", "/app/a=1\n", EVENT_TIMEOUT);
    wait_for_lines(&sb, &confd, "reloads", 1, EVENT_TIMEOUT);
    let loaded = std::fs::read(sb.path("out/app.conf")).unwrap();

    // The server can no longer reload: the new file goes in, the reload fails, the file the
    // server runs is put back, byte for byte.
    std::fs::remove_file(sb.path("reload-ok")).unwrap();
    etcd.put("/app/b", "2");
    confd.wait_for_log("put back the previous");
    assert_eq!(std::fs::read(sb.path("out/app.conf")).unwrap(), loaded);
    confd.wait_for_log("trying again in");

    // Once reloading works again the change is applied and loaded, with no store change.
    std::fs::write(sb.path("reload-ok"), "").unwrap();
    wait_for_file(&sb, &mut confd, "out/app.conf", "/app/a=1\n/app/b=2\n", RECOVERY_TIMEOUT);
    wait_for_lines(&sb, &confd, "reloads", 2, RECOVERY_TIMEOUT);
    confd.assert_running();
}

#[test]
fn a_check_that_fails_until_a_file_appears_is_retried() {
    let etcd = EtcdCluster::start(1);
    etcd.put("/app/a", "1");
    let sb = Sandbox::new();
    app_resource(&sb, &format!("check_cmd = \"test -e {}\"\n", sb.p("check-ok")));
    let mut confd = sb.spawn(confd_cmd(&sb, "etcdv3", &etcd.endpoints(), &["-watch"]));
    confd.wait_for_log("Config check failed");
    confd.wait_for_log("trying again in");
    assert!(!sb.exists("out/app.conf"), "a failed check installs nothing");
    std::fs::write(sb.path("check-ok"), "").unwrap();
    wait_for_file(&sb, &mut confd, "out/app.conf", "/app/a=1\n", RECOVERY_TIMEOUT);
}

/// One registration every 100 ms for 10 s, `min_reload_interval = "2s"`: at most 6 reloads,
/// and the last write is in the file within 2.5 s (the interval plus the quiet period).
#[test]
fn a_steady_trickle_reloads_at_most_once_per_min_reload_interval() {
    let etcd = EtcdCluster::start(1);
    let sb = Sandbox::new();
    let reload = format!("reload_cmd = \"echo reload >> {}\"\n", sb.p("reloads"));
    app_resource(&sb, &format!("{reload}min_reload_interval = \"2s\"\n"));
    etcd.put("/app/0000", "x");
    let mut confd = sb.spawn(confd_cmd(&sb, "etcdv3", &etcd.endpoints(), &["-watch"]));
    wait_for_lines(&sb, &confd, "reloads", 1, EVENT_TIMEOUT);
    let before = lines(&sb, "reloads");

    let mut gw = Gateway::new(&etcd.endpoints()[0]);
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < Duration::from_secs(10) {
        n += 1;
        gw.put(&format!("/app/{n:04}"), "x").unwrap();
        let next = Duration::from_millis(100 * n);
        std::thread::sleep(next.saturating_sub(started.elapsed())); // the writer's pace
    }
    let last_write = Instant::now();
    let want: String = (0..=n).map(|i| format!("/app/{i:04}=x\n")).collect();
    let in_time = wait_until(Duration::from_millis(2500), || {
        sb.try_read("out/app.conf").as_deref() == Some(&want)
    });
    let took = last_write.elapsed();
    wait_for_file(&sb, &mut confd, "out/app.conf", &want, EVENT_TIMEOUT);
    assert!(in_time, "the last write reached the file only after {took:?}");
    let reloads = settled_lines(&sb, "reloads", Duration::from_millis(2500)) - before;
    assert!(reloads <= 6, "{reloads} reloads for {n} writes over 10 s");
    assert!(reloads >= 4, "{reloads} reloads: the trickle should reload every 2 s");
}

/// 20 services on nginx through the production template: one service going applies within
/// the batching time; deleting every key, or rebuilding etcd empty, is held — dest and nginx
/// keep serving — and said; the hold ends when the keys come back, when the removal has been
/// stable for `hold_time`, or at once on SIGUSR1.
#[test]
fn a_wiped_or_rebuilt_store_is_held_and_released_as_configured() {
    let etcd = EtcdCluster::start(1);
    let logs = tempfile::tempdir().unwrap();
    let backend = seed::Backend::start("svc");
    let services: Vec<String> = (0..20).map(|i| format!("s{i:02}")).collect();
    let register = |service: &str| {
        etcd.put(
            &format!("/service_sgin_bx/subdomain/{service}"),
            &format!("{service}.example.com"),
        );
        etcd.put(&format!("/service_sgin_bx/upstream/{service}/i1"), &backend.addr());
    };
    services.iter().for_each(|s| register(s));
    let front = seed::Front::start(&etcd, "bx", None, logs.path());
    let serves =
        |host: &str| matches!(seed::request(front.port, host), Ok((200, ref b, _)) if b == "svc");
    assert!(wait_until(EVENT_TIMEOUT, || serves("s19.example.com")));

    // One service of twenty goes (2 of 40 keys): applied within the batching time.
    etcd.ctl().ok(&["del", "--prefix", "/service_sgin_bx/upstream/s19/"]);
    etcd.del("/service_sgin_bx/subdomain/s19");
    front.wait_config("one service removed", |c| !c.contains("s19.example.com"));

    // Every key deleted: held. The file and nginx stay; a WARNING says how many keys would go.
    let before = front.config();
    etcd.ctl().ok(&["del", "--prefix", "/service_sgin_bx/"]);
    assert!(
        wait_until(EVENT_TIMEOUT, || front.confd.log().contains("would remove 38 of the 38 keys")),
        "no hold:\n{}",
        front.confd.log()
    );
    assert_eq!(front.config(), before);
    assert!(serves("s00.example.com"), "nginx serves the last config");

    // The keys come back: released, and the file follows the store again.
    services[..19].iter().for_each(|s| register(s));
    assert!(wait_until(EVENT_TIMEOUT, || front
        .confd
        .log()
        .contains("hold released (the keys are back)")));
    etcd.put("/service_sgin_bx/subdomain/s19", "s19.example.com");
    etcd.put("/service_sgin_bx/upstream/s19/i1", &backend.addr());
    front.wait_config("s19 back", |c| c.contains("s19.example.com"));

    // etcd rebuilt with an empty data dir (a new cluster): held again; SIGUSR1 releases it.
    let before = front.config();
    etcd.member(0).kill();
    etcd.member(0).restart_empty();
    assert!(
        wait_until(RECOVERY_TIMEOUT, || front
            .confd
            .log()
            .contains("would remove 40 of the 40 keys")),
        "no hold after the rebuild:\n{}",
        front.confd.log()
    );
    assert_eq!(front.config(), before);
    assert!(serves("s00.example.com"));
    front.confd.signal(rustix::process::Signal::USR1);
    front.wait_config("released by SIGUSR1", |c| !c.contains("s00.example.com"));
    assert!(front.confd.log().contains("hold released (SIGUSR1)"));
    front.prefix.test(Path::new("conf/nginx.conf")).expect("the released config passes nginx -t");
}

/// `confd -watch` on ten keys under `/app` (resource lines `extra`), rendered, then every key
/// deleted: held.
struct Wiped {
    etcd: EtcdCluster,
    sb: Sandbox,
    confd: common::Daemon,
    /// The file as rendered before the wipe.
    all: String,
}

fn ten_keys_wiped(extra: &str) -> Wiped {
    let etcd = EtcdCluster::start(1);
    for i in 0..10 {
        etcd.put(&format!("/app/{i}"), "x");
    }
    let sb = Sandbox::new();
    app_resource(&sb, extra);
    let mut confd = sb.spawn(confd_cmd(&sb, "etcdv3", &etcd.endpoints(), &["-watch"]));
    let all: String = (0..10).map(|i| format!("/app/{i}=x\n")).collect();
    wait_for_file(&sb, &mut confd, "out/app.conf", &all, EVENT_TIMEOUT);
    etcd.ctl().ok(&["del", "--prefix", "/app/"]);
    confd.wait_for_log("would remove 10 of the 10 keys");
    Wiped { etcd, sb, confd, all }
}

/// With a short `hold_time`, a removal that stays the same is applied when it has passed.
#[test]
fn a_stable_removal_is_applied_after_its_hold_time() {
    let Wiped { etcd: _etcd, sb, mut confd, all } = ten_keys_wiped("hold_time = \"2s\"\n");
    assert_eq!(sb.read("out/app.conf"), all, "held");
    wait_for_file(&sb, &mut confd, "out/app.conf", "", RECOVERY_TIMEOUT);
    assert!(confd
        .stderr()
        .contains("hold released (the removal has not changed for its hold_time)"));
}

/// SIGHUP re-reads the resources and restarts the watch with a full read; a hold in force
/// stays in force (the new read is judged against what was applied before).
#[test]
fn a_hold_survives_sighup() {
    let Wiped { etcd, sb, mut confd, all } = ten_keys_wiped("");
    confd.signal("HUP");
    confd.wait_for_log("Reloaded 1 template resources");
    confd.wait_for_log("Read 0 keys from etcd");
    std::thread::sleep(Duration::from_millis(1500)); // a batch window and more, for a render
    assert_eq!(sb.read("out/app.conf"), all, "still held after SIGHUP");
    assert!(!confd.stderr().contains("hold released"), "{}", confd.stderr());
    etcd.put("/app/0", "y");
    etcd.put("/app/1", "x");
    etcd.put("/app/2", "x");
    etcd.put("/app/3", "x");
    etcd.put("/app/4", "x");
    let back = "/app/0=y\n/app/1=x\n/app/2=x\n/app/3=x\n/app/4=x\n";
    wait_for_file(&sb, &mut confd, "out/app.conf", back, EVENT_TIMEOUT);
    assert!(confd.stderr().contains("hold released (the keys are back)"));
}

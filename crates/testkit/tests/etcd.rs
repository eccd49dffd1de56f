//! The harness against real etcd: clusters start, replicate, survive kill/restart and
//! pause/resume, do auth and TLS, and leave nothing behind even when a test dies.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use testkit::{wait_until, EtcdCluster, EtcdOptions};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn kv(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

/// Whether `pid` is a live (not zombie) etcd process.
fn etcd_alive(pid: u32) -> bool {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let zombie = stat.rsplit(')').next().is_some_and(|s| s.trim_start().starts_with('Z'));
    !zombie && String::from_utf8_lossy(&cmdline).contains("etcd")
}

#[test]
fn single_member_put_get_del_compact() {
    let t = Instant::now();
    let c = EtcdCluster::start(1);
    eprintln!("1-member cluster started in {:?}", t.elapsed());
    let url = &c.endpoints()[0];
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(c.member(0).client_url(), *url);
    assert!(c.tls_files().is_none());

    c.put("/app/a", "1");
    c.put("/app/b", "two words\nand a line");
    c.put("/app/c", "");
    c.put("/app/-d", "-starts with a dash");
    c.put("/appx", "not under /app/");
    assert_eq!(
        c.get_prefix("/app/"),
        vec![
            kv("/app/-d", "-starts with a dash"),
            kv("/app/a", "1"),
            kv("/app/b", "two words\nand a line"),
            kv("/app/c", ""),
        ]
    );
    assert_eq!(c.get("/app/a").as_deref(), Some("1"));
    c.del("/app/a");
    assert_eq!(c.get("/app/a"), None);
    assert_eq!(c.get_prefix("/nothing/"), vec![]);

    let rev = c.revision();
    assert_eq!(rev, 7, "6 writes after the initial revision 1");
    assert_eq!(c.compact_to_current(), rev);
    assert_eq!(c.compact_to_current(), rev, "compacting again is fine");
    let old = c.etcdctl(&["get", "--rev=2", "/app/a"]);
    assert!(!old.status.success());
    assert!(stderr(&old).contains("required revision has been compacted"), "{}", stderr(&old));
}

#[test]
fn extra_args_reach_etcd() {
    let c = EtcdCluster::start_with(
        EtcdOptions::new(1)
            .arg("--experimental-watch-progress-notify-interval=1s")
            .arg("--max-request-bytes=1024"),
    );
    c.put("/small", "x");
    let big = "x".repeat(2000);
    let out = c.etcdctl(&["put", "/big", &big]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("request is too large"), "{}", stderr(&out));
}

#[test]
fn three_members_elect_a_leader_and_replicate() {
    let t = Instant::now();
    let c = EtcdCluster::start(3);
    eprintln!("3-member cluster started in {:?}", t.elapsed());
    let leader = c.leader().expect("a leader");
    assert!(leader < 3);

    let urls = c.endpoints();
    assert_eq!(urls.len(), 3);
    let peers: Vec<String> = c.members().iter().map(|m| m.peer_url()).collect();
    let mut all: Vec<&String> = urls.iter().chain(&peers).collect();
    assert!(all.iter().all(|u| u.starts_with("http://127.0.0.1:")), "{all:?}");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 6, "distinct ports");

    let list = c.ctl().ok(&["member", "list"]);
    assert_eq!(list.lines().count(), 3, "{list}");
    c.member(0).ctl().ok(&["put", "/k", "v"]);
    for m in c.members() {
        let v = m.ctl().ok(&["get", "--print-value-only", "/k"]);
        assert_eq!(v.trim(), "v", "read through {}", m.name());
    }
}

#[test]
fn killed_leader_restarts_and_catches_up() {
    let c = EtcdCluster::start(3);
    let victim = c.member(c.leader().expect("a leader"));
    let pid = victim.pid().expect("running");
    victim.kill();
    assert!(!victim.is_running() && victim.pid().is_none());
    assert!(!etcd_alive(pid), "SIGKILLed and reaped");
    let refused = victim.ctl().timeout(Duration::from_millis(500)).run(&["endpoint", "health"]);
    assert!(!refused.status.success());

    // The other two elect a new leader and take writes.
    assert!(c.wait_healthy(Duration::from_secs(15)), "two members keep a quorum");
    assert!(wait_until(Duration::from_secs(10), || c.leader().is_some()));
    c.put("/written", "while m was down");

    let t = Instant::now();
    victim.restart();
    eprintln!("member restarted in {:?}", t.elapsed());
    assert_ne!(victim.pid(), Some(pid));
    let v = victim.ctl().ok(&["get", "--print-value-only", "/written"]);
    assert_eq!(v.trim(), "while m was down");
    assert!(c.wait_healthy(Duration::from_secs(10)));
    let log = std::fs::read_to_string(victim.log_path()).unwrap();
    assert!(
        log.contains("testkit: starting m") && log.contains("--initial-cluster-state=existing")
    );
}

#[test]
fn paused_member_does_not_answer_until_resumed() {
    let c = EtcdCluster::start(3);
    let leader = c.leader().expect("a leader");
    let m = c.member((leader + 1) % 3); // a follower
    m.pause();
    assert!(m.is_paused() && m.is_running());

    let t = Instant::now();
    let out = m.ctl().timeout(Duration::from_secs(1)).run(&["get", "/x"]);
    let took = t.elapsed();
    assert!(!out.status.success(), "a paused member answered");
    assert!(took >= Duration::from_millis(900), "failed fast ({took:?}): not a hang");
    assert!(took < Duration::from_secs(8), "bounded ({took:?})");
    assert!(stderr(&out).contains("deadline exceeded"), "{}", stderr(&out));

    // The others carry on (ctl() leaves paused members out).
    c.put("/while-paused", "1");
    assert_eq!(c.get("/while-paused").as_deref(), Some("1"));

    m.resume();
    assert!(!m.is_paused());
    let ctl = m.ctl().timeout(Duration::from_secs(1));
    assert!(
        wait_until(Duration::from_secs(10), || {
            let out = ctl.run(&["get", "--print-value-only", "/while-paused"]);
            out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "1"
        }),
        "resumed member answers and has caught up"
    );
}

#[test]
fn auth_users_and_prefix_permissions() {
    let c = EtcdCluster::start(1);
    c.add_user("alice", "alice-pw", "app-rw", Some("/app/"), Some("/app/"));
    c.add_user("bob", "bob-pw", "app-ro", Some("/app/"), None);
    c.enable_auth("root-pw");
    c.put("/app/x", "1"); // as root
    c.put("/other/y", "2");

    let wrong = c.ctl().user("alice", "nope").run(&["get", "/app/x"]);
    assert!(!wrong.status.success());
    assert!(stderr(&wrong).contains("authentication failed"), "{}", stderr(&wrong));

    let alice = c.ctl().user("alice", "alice-pw");
    assert_eq!(alice.ok(&["get", "--print-value-only", "/app/x"]).trim(), "1");
    alice.ok(&["put", "/app/z", "by alice"]);
    let denied = alice.run(&["get", "/other/y"]);
    assert!(!denied.status.success());
    assert!(stderr(&denied).contains("permission denied"), "{}", stderr(&denied));
    // The prefix is a plain string prefix: "/app/" does not cover "/appx".
    assert!(!alice.run(&["put", "/appx", "v"]).status.success());

    let bob = c.ctl().user("bob", "bob-pw");
    assert_eq!(bob.ok(&["get", "--print-value-only", "/app/z"]).trim(), "by alice");
    let ro = bob.run(&["put", "/app/x", "2"]);
    assert!(stderr(&ro).contains("permission denied"), "{}", stderr(&ro));

    let anonymous = c.ctl().anonymous().run(&["get", "/app/x"]);
    assert!(!anonymous.status.success(), "auth is on");
    assert_eq!(c.get("/app/x").as_deref(), Some("1"), "helpers run as root");
}

#[test]
fn tls_with_client_certificates() {
    let t = Instant::now();
    let c = EtcdCluster::start_with(EtcdOptions::new(3).client_cert_auth());
    eprintln!("3-member TLS cluster (with openssl) started in {:?}", t.elapsed());
    let url = &c.endpoints()[0];
    assert!(c.endpoints().iter().all(|u| u.starts_with("https://127.0.0.1:")), "{url}");
    assert!(c.member(1).peer_url().starts_with("http://"), "peers stay plain");
    let files = c.tls_files().expect("TLS files");
    for p in [&files.ca, &files.cert, &files.key] {
        assert!(p.is_file(), "{}", p.display());
    }

    c.put("/tls", "yes");
    assert_eq!(c.get("/tls").as_deref(), Some("yes"));

    let no_cert =
        c.ctl().without_client_cert().timeout(Duration::from_secs(1)).run(&["get", "/tls"]);
    assert!(!no_cert.status.success(), "served a client without a certificate");

    let plain = c
        .ctl()
        .endpoint(&url.replace("https://", "http://"))
        .timeout(Duration::from_secs(1))
        .run(&["get", "/tls"]);
    assert!(!plain.status.success(), "served plain HTTP on a TLS port");

    // Another certificate from the same CA works; with auth on, its CN is the user.
    let alice = c.client_cert("alice");
    c.ctl().client_cert(&alice).ok(&["get", "/tls"]);
    c.add_user("alice", "alice-pw", "tls-reader", Some("/tls"), None);
    c.enable_auth("root-pw");
    let as_alice = c.ctl().anonymous().client_cert(&alice);
    assert_eq!(as_alice.ok(&["get", "--print-value-only", "/tls"]).trim(), "yes");
    let denied = as_alice.run(&["put", "/tls", "no"]);
    assert!(stderr(&denied).contains("permission denied"), "{}", stderr(&denied));
    // The default client certificate has CN root.
    c.ctl().anonymous().ok(&["put", "/tls", "root via CN"]);
}

#[test]
fn a_member_that_cannot_start_fails_the_start_with_its_log() {
    let result = std::panic::catch_unwind(|| {
        EtcdCluster::start_with(EtcdOptions::new(1).arg("--no-such-flag=1"));
    });
    let message = result.expect_err("start must fail");
    let message = message.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("etcd cluster did not start: m0 exited"), "{message}");
    assert!(message.contains("no-such-flag"), "the log tail is quoted: {message}");
    let dir = message
        .split("--- m0 (")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .map(|log| Path::new(log).parent().unwrap().to_path_buf())
        .expect("the message names the log file");
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[test]
fn nothing_survives_a_panicking_test() {
    let seen: Mutex<Option<(Vec<u32>, PathBuf)>> = Mutex::new(None);
    let result = std::panic::catch_unwind(|| {
        let c = EtcdCluster::start(2);
        let pids = c.members().iter().filter_map(|m| m.pid()).collect();
        *seen.lock().unwrap() = Some((pids, c.dir().to_path_buf()));
        c.member(1).pause();
        panic!("deliberate panic with a cluster (one member paused) in scope");
    });
    assert!(result.is_err());
    let (pids, dir) = seen.lock().unwrap().take().expect("cluster started");
    assert_eq!(pids.len(), 2);
    for pid in pids {
        assert!(!etcd_alive(pid), "etcd {pid} survived the panic");
    }
    assert!(!dir.exists(), "{} left behind", dir.display());
}

const VICTIM_REPORT: &str = "TESTKIT_VICTIM_REPORT";

/// Run by `nothing_survives_a_killed_test_process` in a child process: starts a cluster, reports
/// its pids and directory, and waits to be killed.
#[test]
#[ignore = "helper process for nothing_survives_a_killed_test_process"]
fn victim_holding_a_cluster() {
    let Some(report) = std::env::var_os(VICTIM_REPORT) else {
        return;
    };
    let c = EtcdCluster::start(1);
    let pids: Vec<String> =
        c.members().iter().filter_map(|m| m.pid()).map(|p| p.to_string()).collect();
    let tmp = PathBuf::from(&report).with_extension("tmp");
    std::fs::write(&tmp, format!("{}\n{}\n", pids.join(" "), c.dir().display())).unwrap();
    std::fs::rename(&tmp, &report).unwrap();
    let killed = wait_until(Duration::from_secs(60), || false);
    panic!("victim was not killed within 60 s ({killed})");
}

#[test]
fn nothing_survives_a_killed_test_process() {
    let scratch = tempfile::tempdir().unwrap();
    let report = scratch.path().join("report");
    let mut victim = Command::new(std::env::current_exe().unwrap())
        .args(["victim_holding_a_cluster", "--exact", "--ignored", "--test-threads=1"])
        .env(VICTIM_REPORT, &report)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let reported = wait_until(Duration::from_secs(40), || report.exists());
    let _ = victim.kill(); // SIGKILL: no unwinding, no Drop
    let _ = victim.wait();
    assert!(reported, "the victim did not start its cluster");
    let text = std::fs::read_to_string(&report).unwrap();
    let mut lines = text.lines();
    let pids: Vec<u32> = lines.next().unwrap().split(' ').map(|p| p.parse().unwrap()).collect();
    let dir = Path::new(lines.next().unwrap());
    assert_eq!(pids.len(), 1);
    assert!(
        wait_until(Duration::from_secs(10), || pids.iter().all(|p| !etcd_alive(*p))),
        "etcd {pids:?} survived its test process"
    );
    assert!(wait_until(Duration::from_secs(10), || !dir.exists()), "{} left behind", dir.display());
}

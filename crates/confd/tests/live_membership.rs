//! Live membership (examples/seed/dynamic, docs/live-membership.md) with real programs: etcd,
//! Debian's nginx with its Lua module, and `confd -watch` on the shipped dynamic confdir.
//! Instances join and leave without a reload, a service or a domain change is one reload, a
//! long response survives membership changes, a restarted nginx routes from the snapshot file
//! at once, hostile values never reach nginx, and a killed backend costs no request.
//!
//! Timings are printed (`--nocapture`), not asserted: docs/BENCHMARKS.md records them.

#[path = "common/mod.rs"]
mod common;
mod seed;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use common::etcd::Gateway;
use seed::{get, request, routes, stream_line, Backend, Front, Mode, Traffic, STREAM_LINES, WAIT};
use testkit::{wait_until, EtcdCluster};

const DC: &str = "bx";
const PREFIX: &str = "/service_sgin_bx";

/// One data centre in live-membership mode with `services` services (`s0`…, domains
/// `s0.example.com`…), one backend each.
struct World {
    // Dropped in this order: confd and nginx before etcd and the logs.
    front: Front,
    backends: Vec<Backend>,
    gateway: Gateway,
    cluster: EtcdCluster,
    _logs: tempfile::TempDir,
}

impl World {
    fn start(services: usize) -> World {
        World::start_mode(Mode::Dynamic, services)
    }

    fn start_mode(mode: Mode, services: usize) -> World {
        let logs = tempfile::tempdir().unwrap();
        let cluster = EtcdCluster::start(1);
        let mut backends = Vec::new();
        for s in 0..services {
            let b = Backend::start(&format!("s{s}-0"));
            cluster.put(&format!("{PREFIX}/subdomain/s{s}"), &format!("s{s}.example.com"));
            cluster.put(&format!("{PREFIX}/upstream/s{s}/i0"), &b.addr());
            backends.push(b);
        }
        let front = Front::start_mode(&cluster, DC, None, logs.path(), mode);
        for s in 0..services {
            routes(front.port, &format!("s{s}.example.com"), 2, &[&format!("s{s}-0")]);
        }
        let gateway = Gateway::new(&cluster.endpoints()[0]);
        World { front, backends, gateway, cluster, _logs: logs }
    }

    fn put(&mut self, key: &str, value: &str) {
        self.gateway.put(&format!("{PREFIX}/{key}"), value).unwrap();
    }

    fn del(&mut self, key: &str) {
        self.gateway.del(&format!("{PREFIX}/{key}")).unwrap();
    }

    fn socket(&self) -> PathBuf {
        self.front.prefix.path().join("run/push.sock")
    }

    /// `GET /membership` on nginx's push socket, straight (as an operator would with curl).
    fn status(&self) -> String {
        exchange(&self.socket(), "GET", "").1
    }

    /// The membership version nginx has.
    fn version(&self) -> u64 {
        let status = self.status();
        let v = status.split("\"version\":").nth(1).and_then(|v| v.split([',', '}']).next());
        v.and_then(|v| v.trim().parse().ok()).unwrap_or_else(|| panic!("no version: {status}"))
    }

    /// Waits until nginx has a membership version newer than `v`; returns it.
    fn wait_version_after(&self, v: u64) -> u64 {
        let mut now = v;
        assert!(wait_until(WAIT, || {
            now = self.version();
            now > v
        }));
        now
    }
}

/// One request on the push socket: (status, body).
fn exchange(socket: &std::path::Path, method: &str, body: &str) -> (u16, String) {
    let mut s = UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{method} /membership HTTP/1.0\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    (head.split(' ').nth(1).unwrap().parse().unwrap(), body.to_string())
}

/// How long until `f` holds, polling as fast as requests go; `None` after [`WAIT`].
fn time_until(mut f: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < WAIT {
        if f() {
            return Some(start.elapsed());
        }
    }
    None
}

/// Whether `name` answers one of `tries` requests for `host`.
fn answers(port: u16, host: &str, name: &str, tries: usize) -> bool {
    (0..tries).any(|_| matches!(request(port, host), Ok((200, body, _)) if body == name))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// What [`churn`] went through.
struct Churn {
    world: World,
    /// nginx's workers and the reloads so far, before the first change.
    workers: Vec<u32>,
    reloads: usize,
}

/// `rounds` instances join each of `services` services, then all of them leave, one etcd
/// write at a time; each change is waited for until requests show it, and the time from the
/// write until then printed.
fn churn(mode: Mode, services: usize, rounds: usize) -> Churn {
    let mut w = World::start_mode(mode, services);
    let port = w.front.port;
    let (workers, reloads) = (w.front.nginx().workers(), w.front.reloads());
    let mut joined: Vec<(usize, usize, String, Backend)> = Vec::new();
    let mut join_times = Vec::new();
    for round in 1..=rounds {
        for s in 0..services {
            let name = format!("s{s}-{round}");
            let b = Backend::start(&name);
            let host = format!("s{s}.example.com");
            w.put(&format!("upstream/s{s}/i{round}"), &b.addr());
            let took = time_until(|| answers(port, &host, &name, round + 1));
            let took = took.unwrap_or_else(|| {
                panic!("{name} never routed; confd log:\n{}", w.front.confd.log())
            });
            join_times.push(took);
            joined.push((s, round, name, b));
        }
    }
    let mut leave_times = Vec::new();
    for (s, round, name, b) in &joined {
        let host = format!("s{s}.example.com");
        w.del(&format!("upstream/s{s}/i{round}"));
        // Gone: a run of requests, four per instance (nginx's workers balance each on their
        // own), none of them answered by it.
        let took = time_until(|| !answers(port, &host, name, 4 * (rounds + 1)));
        leave_times.push(took.unwrap_or_else(|| panic!("{name} still routed after {WAIT:?}")));
        b.stop();
    }
    for s in 0..services {
        routes(port, &format!("s{s}.example.com"), 3, &[&format!("s{s}-0")]);
    }
    join_times.sort();
    leave_times.sort();
    for (what, times) in [("joins", &join_times), ("leaves", &leave_times)] {
        println!(
            "{mode:?}: {} {what}: p50 {:?}, max {:?} (etcd write → routed)",
            times.len(),
            percentile(times, 0.5),
            times.last().unwrap()
        );
    }
    Churn { world: w, workers, reloads }
}

#[test]
fn instances_join_and_leave_without_a_reload() {
    // 10 services × 5 = 50 joins, then 50 leaves.
    let Churn { world: w, workers, reloads } = churn(Mode::Dynamic, 10, 5);
    assert!(!workers.is_empty());
    assert_eq!(w.front.reloads(), reloads, "an instance change reloaded nginx");
    assert_eq!(w.front.nginx().workers(), workers, "nginx's workers changed");
    // Every join is its own push (each waits until it is routed); a leave can share one with
    // the next when it is seen before nginx has it.
    let pushes = w.front.confd.log().matches("pushed to unix:").count();
    println!("Dynamic: {pushes} pushes for 100 changes");
    assert!(pushes >= 50, "confd reports its pushes: {pushes}");
}

/// The same changes through the reload path (examples/seed/production), for the figures
/// beside live membership's: each change is a reload.
#[test]
fn instances_join_and_leave_through_reloads_for_comparison() {
    let Churn { world: w, reloads, .. } = churn(Mode::Production, 10, 2);
    let reloads = w.front.reloads() - reloads;
    println!("Production: {reloads} reloads for 40 changes");
    assert!(reloads > 0);
}

#[test]
fn a_new_service_or_a_changed_domain_is_one_reload() {
    let mut w = World::start(2);
    let port = w.front.port;
    let reloads = w.front.reloads();

    let b = Backend::start("new-0");
    let start = Instant::now();
    w.put("upstream/new/i0", &b.addr());
    w.put("subdomain/new", "new.example.com");
    routes(port, "new.example.com", 2, &["new-0"]);
    println!("new service routed after {:?}", start.elapsed());
    assert!(wait_until(WAIT, || w.front.reloads() == reloads + 1));

    // The reload above was less than -min-reload-interval (1 s) ago: past it, the next
    // structure change is not deferred by the pacing, and its time is its own.
    thread::sleep(Duration::from_secs(1));
    let start = Instant::now();
    w.put("subdomain/s0", "s0.example.com other.example.com");
    routes(port, "other.example.com", 2, &["s0-0"]);
    println!("changed domain list routed after {:?}", start.elapsed());
    thread::sleep(Duration::from_secs(2)); // anything else would have come by now
    assert_eq!(w.front.reloads(), reloads + 2, "one reload per structure change");
    routes(port, "s0.example.com", 2, &["s0-0"]);

    // A service whose last instance leaves answers 503 (its upstream stays), and comes back
    // without a reload.
    w.del("upstream/s1/i0");
    assert!(wait_until(WAIT, || matches!(request(port, "s1.example.com"), Ok((503, _, _)))));
    let addr = w.backends[1].addr();
    w.put("upstream/s1/i0", &addr);
    routes(port, "s1.example.com", 2, &["s1-0"]);
    assert_eq!(w.front.reloads(), reloads + 2);
}

#[test]
fn a_long_response_survives_membership_changes() {
    let mut w = World::start(1);
    let port = w.front.port;
    let workers = w.front.nginx().workers();
    let streaming = thread::spawn(move || {
        get(port, "s0.example.com", "/stream", Duration::from_secs(60)).unwrap()
    });
    let extra: Vec<Backend> = (1..=25).map(|i| Backend::start(&format!("s0-{i}"))).collect();
    // 50 changes during the response, each pushed before the next: 25 instances join, then
    // leave.
    let mut version = w.version();
    for (i, b) in extra.iter().enumerate() {
        w.put(&format!("upstream/s0/x{i}"), &b.addr());
        version = w.wait_version_after(version);
    }
    for i in 0..extra.len() {
        w.del(&format!("upstream/s0/x{i}"));
        version = w.wait_version_after(version);
    }
    assert!(!streaming.is_finished(), "the response must outlast the changes");
    let (status, body) = streaming.join().unwrap();
    let want: String = (0..STREAM_LINES).map(stream_line).collect();
    assert_eq!(status, 200);
    assert!(body == want, "the response was cut: {} of {} bytes", body.len(), want.len());
    assert_eq!(w.front.nginx().workers(), workers);
    println!(
        "a {:?} response through 50 membership pushes: intact, no reload",
        seed::STREAM_EVERY * STREAM_LINES as u32
    );
}

#[test]
fn a_restarted_nginx_routes_from_the_snapshot_at_once() {
    let mut w = World::start(2);
    let b = Backend::start("s0-1");
    w.put("upstream/s0/i1", &b.addr());
    let port_field = format!("\"port\":{}", b.addr().rsplit(':').next().unwrap());
    assert!(wait_until(WAIT, || w.front.membership().contains(&port_field)));
    routes(w.front.port, "s0.example.com", 4, &["s0-0", "s0-1"]);

    // confd down, nginx stopped and started again: the first requests route as before.
    w.front.confd.kill();
    w.front.stop_nginx();
    w.front.start_nginx();
    let first: Vec<String> = (0..4)
        .map(|_| match request(w.front.port, "s0.example.com") {
            Ok((200, body, _)) => body,
            other => format!("{other:?}"),
        })
        .collect();
    let mut seen = first.clone();
    seen.sort();
    seen.dedup();
    assert_eq!(seen, ["s0-0", "s0-1"], "the first requests after the restart: {first:?}");
    routes(w.front.port, "s1.example.com", 2, &["s1-0"]);
    assert!(w.status().contains("\"version\":0,"), "nginx runs the file: {}", w.status());

    // confd back: dest is already what etcd says, and it pushes all the same (nginx may have
    // started from an older file), once.
    let confd = w.front.start_confd();
    let pushes = || confd.log().matches("pushed to unix:").count();
    assert!(wait_until(WAIT, || pushes() == 1), "{}", confd.log());
    assert!(!w.status().contains("\"version\":0,"), "{}", w.status());
    thread::sleep(Duration::from_millis(500));
    assert_eq!(pushes(), 1, "{}", confd.log());
    routes(w.front.port, "s0.example.com", 4, &["s0-0", "s0-1"]);
}

#[test]
fn weights_are_honoured() {
    // A weighted membership pushed to the socket (the template of examples/seed/dynamic has no
    // weights; a template of one's own can render `weight=N`).
    let w = World::start(1);
    let heavy = Backend::start("heavy");
    let light = Backend::start("light");
    let peer = |b: &Backend, weight: u8| {
        let port = b.addr().rsplit(':').next().unwrap().to_string();
        format!("{{\"host\":\"127.0.0.1\",\"port\":{port},\"weight\":{weight}}}")
    };
    let body = format!(
        "{{\"version\":{},\"services\":{{\"s0\":[{},{}]}}}}",
        w.version() + 1,
        peer(&heavy, 3),
        peer(&light, 1)
    );
    let (code, answer) = exchange(&w.socket(), "POST", &body);
    assert_eq!(code, 200, "{answer}");
    routes(w.front.port, "s0.example.com", 8, &["heavy", "light"]);
    let n = 80;
    let heavy_count = (0..n)
        .filter(
            |_| matches!(request(w.front.port, "s0.example.com"), Ok((200, b, _)) if b == "heavy"),
        )
        .count();
    // Each worker alternates 3:1 exactly; over two workers, 60 ± a few of 80.
    assert!((54..=66).contains(&heavy_count), "heavy answered {heavy_count} of {n}");
}

#[test]
fn hostile_membership_never_reaches_nginx() {
    let mut w = World::start(1);
    let port = w.front.port;
    let legit = Backend::start("s0-ok");
    let hostile = [
        ("evil1", "127.0.0.1:8081; } server { listen 80; }".to_string()),
        ("evil2", "127.0.0.1:80\ns0 10.9.9.9:80".to_string()),
        ("evil3", "localhost:80".to_string()),
        ("evil4", "127.0.0.1:80 weight=100".to_string()),
        ("evil5", "[::1]:80 down".to_string()),
        ("evil6", "10.1.1.1:0".to_string()),
        ("evil7", "x".repeat(1 << 20)),
    ];
    for (k, v) in &hostile {
        w.put(&format!("upstream/s0/{k}"), v);
    }
    w.put("upstream/s0/ok", &legit.addr());
    w.put("subdomain/s0\"x", "x.example.com");
    routes(port, "s0.example.com", 4, &["s0-0", "s0-ok"]);
    let membership = w.front.membership();
    let status = w.status();
    for text in [&membership, &status] {
        for bad in ["8081", "10.9.9.9", "localhost", "::1", "10.1.1.1", "xxxx", "s0\\\"x"] {
            assert!(!text.contains(bad), "{bad} reached nginx: {text}");
        }
    }
    let log = w.front.confd.log();
    for (k, _) in &hostile {
        assert!(log.contains(&format!("upstream/s0/{k}")), "no warning names {k}:\n{log}");
    }

    // Someone pushing to the socket directly (as an operator could, or a process that got in)
    // is checked by nginx as well: rejected, and the membership stays.
    let version = w.version();
    let v = version + 1;
    let one = |instance: &str| format!("{{\"version\":{v},\"services\":{{\"s0\":[{instance}]}}}}");
    let too_many: Vec<String> = (0..1025)
        .map(|i| format!("{{\"host\":\"10.0.{}.{}\",\"port\":80}}", i / 256, i % 256))
        .collect();
    let bad_pushes = [
        one("{\"host\":\"evil.example\",\"port\":80}"),
        one("{\"host\":\"10.0.0.1\",\"port\":0}"),
        one("{\"host\":\"10.0.0.1\",\"port\":65536}"),
        one("{\"host\":\"010.0.0.1\",\"port\":80}"),
        one("{\"host\":\"::1\",\"port\":80}"),
        one("{\"host\":\"[::1]; evil\",\"port\":80}"),
        one("{\"host\":\"10.0.0.1\",\"port\":80,\"weight\":0}"),
        one("{\"host\":\"10.0.0.1\",\"port\":80,\"weight\":101}"),
        one("{\"host\":\"10.0.0.1\",\"port\":80,\"backup\":true}"),
        one("{\"host\":\"10.0.0.1\",\"port\":80},{\"host\":\"10.0.0.1\",\"port\":80}"),
        one("{\"host\":\"10.0.0.1\",\"port\":80.5}"),
        one("{\"host\":\"10.0.0.1\",\"port\":0x50}"),
        one(&too_many.join(",")),
        format!("{{\"version\":{v},\"services\":{{\"s 0\":[]}}}}"),
        format!("{{\"version\":{v},\"services\":{{\"..\":[]}}}}"),
        format!("{{\"version\":{v},\"services\":{{\"s0\":[]}},\"extra\":1}}"),
        "{\"version\":NaN,\"services\":{}}".to_string(),
        "{\"version\":1e400,\"services\":{}}".to_string(),
        "{\"version\":9007199254740994,\"services\":{}}".to_string(),
        format!("{{\"version\":{v},\"services\":{{\"s0\":[[[[[[[]]]]]]]}}}}"),
        "not json".to_string(),
        format!("{{\"version\":{},\"services\":{{}}}}", version.saturating_sub(1).max(1)),
    ];
    for body in &bad_pushes {
        let (code, answer) = exchange(&w.socket(), "POST", body);
        assert!((400..500).contains(&code), "{body}: accepted ({code} {answer})");
    }
    routes(port, "s0.example.com", 4, &["s0-0", "s0-ok"]);
    assert!(w.cluster.endpoints().len() == 1);
}

#[test]
fn a_killed_backend_costs_no_request_and_comes_back() {
    let mut w = World::start(1);
    let port = w.front.port;
    let b1 = Backend::start("s0-1");
    let b1_port: u16 = b1.addr().rsplit(':').next().unwrap().parse().unwrap();
    w.put("upstream/s0/i1", &b1.addr());
    routes(port, "s0.example.com", 4, &["s0-0", "s0-1"]);

    let traffic = Traffic::start(port, "s0.example.com");
    thread::sleep(Duration::from_millis(300));
    b1.stop(); // dies without deregistering
    drop(b1);
    thread::sleep(Duration::from_secs(1));
    let (total, failures) = traffic.finish();
    assert!(failures.is_empty(), "{} of {total} requests failed: {:?}", failures.len(), failures);
    let ejected = w.front.nginx().error_log_tail(200);
    assert!(ejected.contains("ejecting s0/127.0.0.1:"), "no ejection logged:\n{ejected}");

    // Back on the same address: it gets traffic again once its ejection has run out.
    let _b1 = Backend::start_on("s0-1", b1_port);
    let back = time_until(|| answers(port, "s0.example.com", "s0-1", 4));
    assert!(back.is_some(), "the instance never came back");
    println!("{total} requests while a backend died: 0 failed; back after {back:?}");
}

/// The same long response through the reload path (examples/seed/production), recorded for
/// docs/BENCHMARKS.md: what happens to it, how many reloads and nginx processes it takes.
#[test]
fn a_long_response_through_reloads_for_comparison() {
    let mut w = World::start_mode(Mode::Production, 1);
    let port = w.front.port;
    let (reloads, workers) = (w.front.reloads(), w.front.nginx().workers().len());
    let started = Instant::now();
    let streaming =
        thread::spawn(move || get(port, "s0.example.com", "/stream", Duration::from_secs(60)));
    let extra: Vec<Backend> = (1..=25).map(|i| Backend::start(&format!("s0-{i}"))).collect();
    let mut most = 0;
    for (i, b) in extra.iter().enumerate() {
        w.put(&format!("upstream/s0/x{i}"), &b.addr());
        thread::sleep(Duration::from_millis(200));
        most = most.max(w.front.nginx().workers().len());
    }
    for i in 0..extra.len() {
        w.del(&format!("upstream/s0/x{i}"));
        thread::sleep(Duration::from_millis(200));
        most = most.max(w.front.nginx().workers().len());
    }
    let result = streaming.join().unwrap();
    let want: String = (0..STREAM_LINES).map(stream_line).collect();
    let outcome = match &result {
        Ok((200, body)) if *body == want => "intact".to_string(),
        Ok((status, body)) => format!("HTTP {status}, {} of {} bytes", body.len(), want.len()),
        Err(e) => format!("failed: {e}"),
    };
    let reloads = w.front.reloads() - reloads;
    println!(
        "Production: a {:?} response through 50 changes ({reloads} reloads): {outcome} after \
         {:?}; nginx processes {workers} → up to {most} (old workers drain the response)",
        seed::STREAM_EVERY * STREAM_LINES as u32,
        started.elapsed()
    );
    assert!(reloads > 0);
}

#[test]
fn a_push_to_a_stopped_nginx_is_put_back_and_retried() {
    let mut w = World::start(1);
    let port = w.front.port;
    w.front.stop_nginx();
    let b = Backend::start("s0-1");
    w.put("upstream/s0/i1", &b.addr());
    // The push fails: confd says so, puts dest back to what nginx last confirmed (so a
    // restarted nginx loads that), and tries again.
    let said = |w: &World| {
        let log = w.front.confd.log();
        log.contains("push failed: cannot connect to unix:")
            && log.contains("put back the previous")
            && log.contains("trying again in")
    };
    assert!(wait_until(WAIT, || said(&w)), "confd log:\n{}", w.front.confd.log());
    w.front.start_nginx();
    routes(port, "s0.example.com", 6, &["s0-0", "s0-1"]);
}

#[test]
fn a_wiped_prefix_is_held_for_pushes_too() {
    // 4 services with 2 instances each: the membership reads 12 keys; wiping the 8 instances
    // removes 67 %, more than the default max_removal of 50 %.
    let mut w = World::start(4);
    let port = w.front.port;
    let second: Vec<Backend> = (0..4).map(|s| Backend::start(&format!("s{s}-1"))).collect();
    for (s, b) in second.iter().enumerate() {
        w.put(&format!("upstream/s{s}/i1"), &b.addr());
    }
    for s in 0..4 {
        routes(port, &format!("s{s}.example.com"), 6, &[&format!("s{s}-0"), &format!("s{s}-1")]);
    }
    let before = w.front.membership();
    w.cluster.ctl().ok(&["del", "--prefix", &format!("{PREFIX}/upstream/")]);
    let held = || w.front.confd.log().contains("held: this change would remove 8 of the 12 keys");
    assert!(wait_until(WAIT, held), "not held:\n{}", w.front.confd.log());
    thread::sleep(Duration::from_millis(500));
    assert_eq!(w.front.membership(), before, "dest changed while held");
    for s in 0..4 {
        routes(port, &format!("s{s}.example.com"), 6, &[&format!("s{s}-0"), &format!("s{s}-1")]);
    }
}

/// Without nginx's Lua module, or without our Lua file in nginx's prefix, the structure's
/// check says what is missing and how to get it, and nginx.conf is not written.
#[test]
fn a_missing_lua_module_or_file_is_named_by_the_check() {
    let shipped = seed::repo().join("examples/seed/dynamic");
    let cases = [
        (true, "live membership needs the Lua module for nginx: apt-get install libnginx-mod-http-lua lua-cjson"),
        (false, "lua/confd_membership.lua is missing: copy it from examples/seed/dynamic/lua/"),
    ];
    for (module_missing, message) in cases {
        let prefix = testkit::nginx::NginxPrefix::new();
        let confdir = tempfile::tempdir().unwrap();
        seed::copy_dir(&shipped.join("templates"), &confdir.path().join("templates"));
        std::fs::create_dir(confdir.path().join("conf.d")).unwrap();
        let toml = std::fs::read_to_string(shipped.join("conf.d/nginx.toml")).unwrap();
        let mut toml = toml.replace(
            "dest = \"/srv/nginx/conf/nginx.conf\"",
            &format!("dest = \"{}\"", prefix.conf().display()),
        );
        if module_missing {
            toml = toml.replace("/usr/lib/nginx/modules/", "/nonexistent/modules/");
        }
        std::fs::write(confdir.path().join("conf.d/nginx.toml"), toml).unwrap();
        let data = confdir.path().join("keys.yaml");
        let yaml = "service_sgin_bx:\n  subdomain:\n    web: www.example.com\n";
        std::fs::write(&data, yaml).unwrap();
        let out = std::process::Command::new(seed::CONFD)
            .args(["-onetime", "-backend", "file", "-file"])
            .arg(&data)
            .arg("-confdir")
            .arg(confdir.path())
            .args(["-config-file", "/nonexistent"])
            .env("NGINX_PREFIX", prefix.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
        assert!(!prefix.conf().exists(), "nginx.conf written although its check failed");
    }
}

#[test]
fn a_hung_nginx_costs_one_push_timeout_and_is_caught_up_after() {
    let mut w = World::start(1);
    let port = w.front.port;
    let group = rustix::process::Pid::from_raw(w.front.nginx().pid() as i32).unwrap();
    let signal_nginx = |sig| rustix::process::kill_process_group(group, sig).unwrap();
    signal_nginx(rustix::process::Signal::STOP);
    let b = Backend::start("s0-1");
    w.put("upstream/s0/i1", &b.addr());
    // The push cannot finish: after push_timeout (5 s) confd says so and will try again.
    let failed = || w.front.confd.log().contains("push failed: ");
    let ok = wait_until(WAIT, failed);
    signal_nginx(rustix::process::Signal::CONT);
    assert!(ok, "no push failure reported:\n{}", w.front.confd.log());
    assert!(w.front.confd.running(), "confd stopped");
    routes(port, "s0.example.com", 6, &["s0-0", "s0-1"]);
}

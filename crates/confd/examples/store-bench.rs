//! Benchmarks confd against each store it reads (issue 14): `-onetime` (whole process, the
//! seed's template) and `-watch` (time from a change to `reload_cmd` starting; resident memory
//! after the first render), with the same data in every store: the seed's key layout for N
//! services × 3 servers. The servers are the real ones, started on loopback ports by testkit
//! (etcd 3.4, with `--enable-v2` for the v2 API; Debian's redis-server and zookeeper).
//!
//! ```sh
//! cargo build --release -p confd
//! cargo run --release -p confd --example store-bench -- target/release/confd [SERVICES] [BACKEND...]
//! ```
//!
//! Prints one Markdown table row per backend. SERVICES defaults to 1,000; backends to all
//! (`etcdv3 etcdv2 redis zookeeper`). `ORIGINAL=/path/to/confd` runs the original confd on
//! the same data too (it has no `etcdv2`; its `-wait` and reload pacing do not exist, so its
//! watch rows use its own defaults). `EXTRA="-wait 0"` passes more flags to confd-rs only.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use testkit::gateway::Gateway;
use testkit::redis::{RedisOptions, RedisServer};
use testkit::zookeeper::ZookeeperServer;
use testkit::{EtcdCluster, EtcdOptions};

const ONETIME_RUNS: usize = 10;
const CHANGES: usize = 10;

/// Writes a key's value into a store.
type Writer<'a> = Box<dyn FnMut(&str, &str) + 'a>;

/// A running store with the seed's data in it.
enum Store {
    Etcd(EtcdCluster, bool),
    Redis(RedisServer),
    Zookeeper(ZookeeperServer),
}

impl Store {
    fn start(backend: &str) -> Store {
        match backend {
            "etcdv3" => Store::Etcd(EtcdCluster::start(1), false),
            "etcdv2" => {
                Store::Etcd(EtcdCluster::start_with(EtcdOptions::new(1).arg("--enable-v2")), true)
            }
            "redis" => Store::Redis(RedisServer::start(RedisOptions::default().notify("K$ghx"))),
            "zookeeper" => Store::Zookeeper(ZookeeperServer::start()),
            other => panic!("unknown backend {other}"),
        }
    }

    fn node(&self) -> String {
        match self {
            Store::Etcd(etcd, _) => etcd.endpoints()[0].clone(),
            Store::Redis(r) => r.addr(),
            Store::Zookeeper(z) => z.addr(),
        }
    }

    /// A writer for many keys (one connection where the store allows).
    fn writer(&self) -> Writer<'_> {
        match self {
            Store::Etcd(etcd, v2) => {
                let mut gw = Gateway::new(&etcd.endpoints()[0]);
                let v2 = *v2;
                Box::new(move |k, v| {
                    if v2 { gw.v2_set(k, v) } else { gw.put(k, v) }.expect("write to etcd")
                })
            }
            Store::Redis(r) => Box::new(move |k, v| drop(r.cli(&["SET", k, v]))),
            Store::Zookeeper(z) => Box::new(move |k, v| z.put(k, v)),
        }
    }
}

fn load(store: &Store, services: usize) {
    let mut write = store.writer();
    for i in 0..services {
        let s = format!("svc{i:05}");
        write(
            &format!("/service_sgin/subdomain/{s}"),
            &format!("www.{s}.example.com  api.{s}.example.com"),
        );
        for j in 1..=3 {
            let addr = format!("10.{j}.{}.{}:8080", i / 256, i % 256);
            write(&format!("/service_sgin/upstream/{s}/server{j}"), &addr);
        }
    }
}

/// A confdir with the seed's resource, writing to `out/nginx.conf`; `reload_cmd` appends the
/// time to `out/reloads`.
fn confdir(work: &Path) -> PathBuf {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/seed");
    let dir = work.join("confdir");
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::create_dir_all(work.join("out")).unwrap();
    std::fs::copy(seed.join("seed-nginx.conf.tmpl"), dir.join("templates/seed-nginx.conf.tmpl"))
        .unwrap();
    let toml = std::fs::read_to_string(seed.join("seed-nginx.toml"))
        .unwrap()
        .replace("OUT/", &format!("{}/out/", work.display()))
        .replace(
            "reload_cmd = \"true\"",
            &format!("reload_cmd = \"date +%s.%N >> {}/out/reloads\"", work.display()),
        );
    std::fs::write(dir.join("conf.d/seed-nginx.toml"), toml).unwrap();
    dir
}

fn confd(binary: &str, backend: &str, node: &str, confdir: &Path, mode: &str) -> Command {
    let mut cmd = Command::new(binary);
    if std::env::var("ORIGINAL").ok().as_deref() != Some(binary) {
        cmd.args(std::env::var("EXTRA").unwrap_or_default().split_whitespace());
    }
    cmd.args([mode, "-backend", backend, "-node", node, "-log-level", "error"])
        .arg("-confdir")
        .arg(confdir)
        .args(["-config-file", "/nonexistent"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

fn median(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.sort_by(|a, b| a.total_cmp(b));
    (xs[xs.len() / 2], xs[0], xs[xs.len() - 1])
}

/// Whole-process `-onetime` wall time, in ms: median (min–max) of [`ONETIME_RUNS`].
fn onetime(binary: &str, backend: &str, store: &Store, work: &Path) -> (f64, f64, f64) {
    let dir = confdir(work);
    let mut times = Vec::new();
    for _ in 0..ONETIME_RUNS {
        let _ = std::fs::remove_file(work.join("out/nginx.conf"));
        let started = Instant::now();
        let status = confd(binary, backend, &store.node(), &dir, "-onetime").status().unwrap();
        times.push(started.elapsed().as_secs_f64() * 1e3);
        assert!(status.success(), "{binary} -onetime -backend {backend} failed");
    }
    median(times)
}

struct Watched {
    first_render_ms: f64,
    rss_mib: f64,
    /// Of the changes that were reloaded within 10 s.
    latency_ms: Option<(f64, f64, f64)>,
    /// Changes not reloaded within 10 s.
    missed: usize,
}

fn watch(binary: &str, backend: &str, store: &Store, work: &Path) -> Watched {
    let dir = confdir(work);
    let reloads = work.join("out/reloads");
    let dest = work.join("out/nginx.conf");
    let _ = std::fs::remove_file(&reloads);
    let _ = std::fs::remove_file(&dest);
    let started = Instant::now();
    let mut child = Kill(confd(binary, backend, &store.node(), &dir, "-watch").spawn().unwrap());
    wait(|| reload_count(&reloads) >= 1, Duration::from_secs(60), "the first render");
    let first_render_ms = started.elapsed().as_secs_f64() * 1e3;
    assert!(dest.exists() && child.0.try_wait().unwrap().is_none(), "{binary} -watch stopped");
    let rss_mib = rss_kib(child.0.id()) / 1024.0;
    let mut write = store.writer();
    let mut latencies = Vec::new();
    let mut missed = 0;
    for n in 0..CHANGES {
        std::thread::sleep(Duration::from_millis(1500)); // isolated: past the reload pacing
        let before = reload_count(&reloads);
        let key = "/service_sgin/upstream/svc00000/server1";
        write(key, &format!("10.9.9.{n}:8080"));
        let written = now();
        if testkit::wait_until(Duration::from_secs(10), || reload_count(&reloads) > before) {
            latencies.push((last_reload(&reloads) - written) * 1e3);
        } else {
            missed += 1;
        }
    }
    let _ = child.0.kill();
    let latency_ms = (!latencies.is_empty()).then(|| median(latencies));
    Watched { first_render_ms, rss_mib, latency_ms, missed }
}

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()
}

fn reload_count(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |s| s.lines().count())
}

fn last_reload(path: &Path) -> f64 {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().last().and_then(|l| l.trim().parse().ok()).expect("a timestamp")
}

fn rss_kib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0)
}

fn wait(mut f: impl FnMut() -> bool, timeout: Duration, what: &str) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let binary = args.first().expect("usage: store-bench CONFD [SERVICES] [BACKEND...]").clone();
    let services: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let mut backends: Vec<&str> = args.iter().skip(2).map(String::as_str).collect();
    if backends.is_empty() {
        backends = vec!["etcdv3", "etcdv2", "redis", "zookeeper"];
    }
    let original = std::env::var("ORIGINAL").ok();
    println!("{services} services x 3 servers ({} keys)", services * 4);
    println!("| backend | binary | -onetime median (min–max) | -watch first render | change → reload_cmd median (min–max) | RSS after first render |");
    println!("|---|---|---|---|---|---|");
    for backend in backends {
        let store = Store::start(backend);
        load(&store, services);
        if std::env::var("HOLD").is_ok() {
            let d = confdir(std::path::Path::new("/tmp/holdwork"));
            println!("NODE {} DIR {}", store.node(), d.display());
            std::thread::sleep(Duration::from_secs(90));
        }
        let mut binaries = vec![("confd-rs", binary.clone())];
        if let (Some(o), true) = (&original, backend != "etcdv2") {
            binaries.push(("original", o.clone()));
        }
        for (label, bin) in binaries {
            let work = tempfile::tempdir().unwrap();
            let (m, lo, hi) = onetime(&bin, backend, &store, work.path());
            let w = watch(&bin, backend, &store, work.path());
            let latency = match w.latency_ms {
                Some((lm, llo, lhi)) => format!("{lm:.1} ms ({llo:.1}–{lhi:.1})"),
                None => "–".to_string(),
            };
            let missed = match w.missed {
                0 => String::new(),
                n => format!("; {n} of {CHANGES} changes not reloaded within 10 s"),
            };
            println!(
                "| {backend} | {label} | {m:.1} ms ({lo:.1}–{hi:.1}) | {:.0} ms | {latency}{missed} | {:.1} MiB |",
                w.first_render_ms, w.rss_mib
            );
        }
    }
}

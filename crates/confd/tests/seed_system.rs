//! The seed's whole system on one machine, with real programs: a 3-member etcd cluster with
//! least-privilege users (made by `examples/seed/etcd-rbac.sh`), two data centres (prefixes
//! `/service_sgin_bx` and `/service_sgin_yz`), each with its own nginx fed by its own
//! `confd -watch` (the production templates of `examples/seed/production`, `nginx -t` before
//! every swap), backends registered by `confd-register` agents with their data centre's
//! registrar user.
//!
//! One test, in the order an operator would meet things: routing by Host, strangers refused, a
//! render nginx rejects, a backend leaving and joining under traffic, a burst of instances, an
//! etcd member killed. Needs both binaries: `cargo test --workspace` builds them.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use testkit::nginx::{Nginx, NginxPrefix};
use testkit::{free_port, wait_until, EtcdCluster, EtcdOptions};

const CONFD: &str = env!("CARGO_BIN_EXE_confd");
const ROOT_PASSWORD: &str = "root-only-for-setup";
const WAIT: Duration = Duration::from_secs(20);
const REDIRECT: &str = "http://default.invalid/";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// confd-register, built beside confd by `cargo test --workspace`.
fn register_bin() -> PathBuf {
    let bin = Path::new(CONFD).with_file_name("confd-register");
    assert!(
        bin.exists(),
        "{} is missing: run the workspace's tests (cargo test --workspace) or cargo build -p confd-register",
        bin.display()
    );
    bin
}

/// A child process in its own process group, its output in a log file; killed with its group
/// when dropped (and its log shown if the test is failing).
struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn spawn(name: &str, cmd: &mut Command, logs: &Path) -> Proc {
        use std::os::unix::process::CommandExt;
        let log = logs.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc { name: name.into(), child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(pg) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process_group(pg, rustix::process::Signal::KILL);
        }
        let _ = self.child.wait();
        if thread::panicking() {
            eprintln!("--- {} log (last 30 lines):", self.name);
            let log = self.log();
            let lines: Vec<&str> = log.lines().collect();
            for l in &lines[lines.len().saturating_sub(30)..] {
                eprintln!("{l}");
            }
        }
    }
}

/// A backend: answers every request with its name, `/health` with "ok".
/// `stop` (or dropping it) closes its listener and shuts its open connections down, as a
/// process that dies: connections are refused from then on, and nginx's kept-alive ones end.
struct Backend {
    name: String,
    port: u16,
    stop: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Backend {
    fn start(name: &str) -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (flag, me, conns) = (stop.clone(), name.to_string(), open.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    return; // drops the listener
                }
                let Ok(mut conn) = conn else { continue };
                if let Ok(c) = conn.try_clone() {
                    conns.lock().unwrap().push(c);
                }
                let me = me.clone();
                thread::spawn(move || serve(&mut conn, &me));
            }
        });
        Backend { name: name.into(), port, stop, open }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn stop(&self) {
        if !self.stop.swap(true, Ordering::SeqCst) {
            let _ = TcpStream::connect(("127.0.0.1", self.port));
            for c in self.open.lock().unwrap().drain(..) {
                let _ = c.shutdown(std::net::Shutdown::Both);
            }
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop();
    }
}

/// HTTP/1.1 with keep-alive (nginx's upstream keepalive reuses connections).
fn serve(conn: &mut TcpStream, name: &str) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        buf.drain(..end + 4);
        let body =
            if head.starts_with("GET /health ") { "ok".to_string() } else { name.to_string() };
        let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        if conn.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// `GET /` with `Host: host` on nginx's port: (status, body, Location).
fn request(port: u16, host: &str) -> Result<(u16, String, String), String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).map_err(|e| e.to_string())?;
    let (head, body) = raw.split_once("\r\n\r\n").ok_or("no header end")?;
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or("no status")?;
    let location =
        head.lines().find_map(|l| l.strip_prefix("Location: ")).unwrap_or_default().to_string();
    Ok((status, body.to_string(), location))
}

/// Waits (nginx applies a reload a moment after `nginx -s reload` returns) until `n`
/// requests for `host` are all answered, by exactly the backends `expected`; panics with what
/// was seen last if that does not happen within [`WAIT`].
fn routes(port: u16, host: &str, n: usize, expected: &[&str]) {
    let mut last = Vec::new();
    let ok = wait_until(WAIT, || {
        last = (0..n)
            .map(|_| match request(port, host) {
                Ok((200, body, _)) => body,
                other => format!("{other:?}"),
            })
            .collect();
        last.sort();
        last.dedup();
        last == expected
    });
    assert!(ok, "{host} on :{port}: answered by {last:?}, expected {expected:?}");
}

/// Requests for `host` on a thread until stopped: (requests, failures, first failure).
struct Traffic {
    stop: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<(usize, Vec<String>)>>,
}

impl Traffic {
    fn start(port: u16, host: &'static str) -> Traffic {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = thread::spawn(move || {
            let (mut total, mut failures) = (0, Vec::new());
            while !flag.load(Ordering::SeqCst) {
                total += 1;
                match request(port, host) {
                    Ok((200, _, _)) => {}
                    other => failures.push(format!("{other:?}")),
                }
                thread::sleep(Duration::from_millis(10));
            }
            (total, failures)
        });
        Traffic { stop, handle: Some(handle) }
    }

    /// Stops, and returns (requests, failures).
    fn finish(mut self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.take().unwrap().join().unwrap()
    }
}

impl Drop for Traffic {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// One data centre's front: nginx with its own prefix, and its confd.
struct Front {
    port: u16,
    reloads: PathBuf,
    // Dropped in this order: confd and nginx stop before their directories go.
    confd: Proc,
    _nginx: Nginx,
    prefix: NginxPrefix,
    _confdir: tempfile::TempDir,
}

impl Front {
    fn start(cluster: &EtcdCluster, dc: &str, secrets: &Path, logs: &Path) -> Front {
        let prefix = NginxPrefix::new();
        let port = free_port();
        let confdir = tempfile::tempdir().unwrap();
        let reloads = confdir.path().join("reloads");
        std::fs::create_dir(confdir.path().join("conf.d")).unwrap();
        let shipped = repo().join("examples/seed/production");
        copy_dir(&shipped.join("templates"), &confdir.path().join("templates"));
        // The shipped resource, with this data centre's prefix and dest, and every reload
        // counted.
        let toml = std::fs::read_to_string(shipped.join("conf.d/nginx.toml")).unwrap();
        let toml: String = toml
            .lines()
            .map(|l| {
                if l.starts_with("prefix = ") {
                    format!("prefix = \"/service_sgin_{dc}\"")
                } else if l.starts_with("dest = ") {
                    format!("dest = \"{}\"", prefix.conf().display())
                } else if let Some(cmd) = l.strip_prefix("reload_cmd = \"") {
                    format!("reload_cmd = \"echo reload >> {} && {cmd}", reloads.display())
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(confdir.path().join("conf.d/nginx.toml"), toml).unwrap();
        let confd = |mode: &[&str]| {
            let mut cmd = Command::new(CONFD);
            cmd.args(["-backend", "etcdv3", "-basic-auth", "-username", &format!("confd-{dc}")])
                .arg("-password-file")
                .arg(secrets.join(format!("confd-{dc}.password")))
                .arg("-confdir")
                .arg(confdir.path())
                .args(["-config-file", "/nonexistent", "-log-level", "debug"])
                .args(mode)
                .env("NGINX_PREFIX", prefix.path())
                .env("NGINX_PORT", port.to_string())
                .env("NGINX_ADDR", "127.0.0.1")
                .env("DEFAULT_REDIRECT", REDIRECT);
            for n in cluster.endpoints() {
                cmd.args(["-node", &n]);
            }
            cmd
        };
        // The first config, before nginx runs: rendered without check and reload.
        let out = confd(&["-onetime", "-sync-only"]).output().unwrap();
        assert!(out.status.success(), "first render: {}", String::from_utf8_lossy(&out.stderr));
        prefix.test(Path::new("conf/nginx.conf")).expect("nginx -t of the first config");
        let nginx = prefix.start(port);
        let confd = Proc::spawn(&format!("confd-{dc}"), &mut confd(&["-watch"]), logs);
        Front { port, reloads, confd, _nginx: nginx, prefix, _confdir: confdir }
    }

    fn config(&self) -> String {
        std::fs::read_to_string(self.prefix.conf()).unwrap_or_default()
    }

    fn reloads(&self) -> usize {
        std::fs::read_to_string(&self.reloads).map(|s| s.lines().count()).unwrap_or(0)
    }

    fn wait_config(&self, what: &str, f: impl Fn(&str) -> bool) {
        assert!(
            wait_until(WAIT, || f(&self.config())),
            "{what}: not within {WAIT:?}; config:\n{}\nconfd log:\n{}",
            self.config(),
            self.confd.log()
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// A `confd-register` agent for `backend`, as its data centre's registrar.
fn agent(
    cluster: &EtcdCluster,
    dc: &str,
    service: &str,
    domains: &[&str],
    backend: &Backend,
    secrets: &Path,
    logs: &Path,
) -> Proc {
    let mut cmd = Command::new(register_bin());
    cmd.args(["--prefix", &format!("/service_sgin_{dc}"), "--service", service])
        .args(["--addr", &backend.addr(), "--instance", &backend.name])
        .args(["--check", &format!("http://{}/health", backend.addr())])
        .args(["--interval", "200ms", "--rise", "1", "--fall", "1", "--ttl", "5"])
        .args(["--username", &format!("registrar-{dc}")])
        .arg("--password-file")
        .arg(secrets.join(format!("registrar-{dc}.password")));
    for d in domains {
        cmd.args(["--domain", d]);
    }
    for n in cluster.endpoints() {
        cmd.args(["--node", &n]);
    }
    Proc::spawn(&format!("agent-{}", backend.name), &mut cmd, logs)
}

fn password(secrets: &Path, user: &str) -> String {
    std::fs::read_to_string(secrets.join(format!("{user}.password"))).unwrap().trim().to_string()
}

#[test]
fn the_seed_system_end_to_end() {
    let logs = tempfile::tempdir().unwrap();
    let logs = logs.path();
    let secrets = tempfile::tempdir().unwrap();
    let secrets = secrets.path();

    // --- etcd ×3 with least privilege, set up by the shipped script.
    let cluster = EtcdCluster::start_with(EtcdOptions::new(3));
    cluster.enable_auth(ROOT_PASSWORD);
    let out = Command::new(repo().join("examples/seed/etcd-rbac.sh"))
        .args(["--endpoints", &cluster.endpoints().join(","), "--secrets"])
        .arg(secrets)
        .args(["/service_sgin_bx", "/service_sgin_yz"])
        .env("ETCD_ROOT_PASSWORD", ROOT_PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "etcd-rbac.sh: {}", String::from_utf8_lossy(&out.stderr));

    // --- two data centres, each its nginx and confd; backends and their agents.
    let bx = Front::start(&cluster, "bx", secrets, logs);
    let yz = Front::start(&cluster, "yz", secrets, logs);
    let web = ["www.example.com", "example.com"];
    let (bx_web1, bx_web2, bx_api1, yz_web1) = (
        Backend::start("bx-web-1"),
        Backend::start("bx-web-2"),
        Backend::start("bx-api-1"),
        Backend::start("yz-web-1"),
    );
    let _agents = [
        agent(&cluster, "bx", "web", &web, &bx_web1, secrets, logs),
        agent(&cluster, "bx", "web", &web, &bx_web2, secrets, logs),
        agent(&cluster, "bx", "api", &["api.example.com"], &bx_api1, secrets, logs),
        agent(&cluster, "yz", "web", &web, &yz_web1, secrets, logs),
    ];
    bx.wait_config("bx routes its three backends", |c| {
        [&bx_web1, &bx_web2, &bx_api1].iter().all(|b| c.contains(&format!("server {};", b.addr())))
    });
    yz.wait_config("yz routes its backend", |c| c.contains(&format!("server {};", yz_web1.addr())));

    // --- Routing: each Host reaches only its service's backends, every one of them; no
    // crosstalk between data centres; unknown Hosts get the default server's redirect.
    routes(bx.port, "www.example.com", 20, &["bx-web-1", "bx-web-2"]);
    routes(bx.port, "example.com", 10, &["bx-web-1", "bx-web-2"]);
    routes(bx.port, "api.example.com", 10, &["bx-api-1"]);
    routes(yz.port, "www.example.com", 10, &["yz-web-1"]);
    for (port, host) in [(bx.port, "unknown.example.org"), (yz.port, "api.example.com")] {
        let (status, _, location) = request(port, host).unwrap();
        assert_eq!((status, location.as_str()), (302, REDIRECT), "{host} on :{port}");
    }
    assert!(!bx.config().contains(&yz_web1.addr()) && !yz.config().contains(&bx_web1.addr()));

    // --- Strangers are refused, and so is everyone outside their grant.
    let ctl = cluster.ctl();
    let refused = |ctl: testkit::Etcdctl<'_>, key: &str, who: &str| {
        let out = ctl.run(&["put", key, "127.0.0.1:1"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{who} wrote {key}");
        assert!(
            err.contains("permission denied") || err.contains("user name is empty"),
            "{who}: {err}"
        );
    };
    refused(cluster.ctl().anonymous(), "/service_sgin_bx/upstream/web/x", "an anonymous client");
    let reg_bx = password(secrets, "registrar-bx");
    refused(
        cluster.ctl().user("registrar-bx", &reg_bx),
        "/service_sgin_yz/upstream/web/x",
        "bx's registrar in yz",
    );
    refused(
        cluster.ctl().user("registrar-bx", &reg_bx),
        "/service_sgin_bx/other",
        "bx's registrar outside upstream/ and subdomain/",
    );
    refused(
        cluster.ctl().user("confd-bx", &password(secrets, "confd-bx")),
        "/service_sgin_bx/upstream/web/x",
        "bx's confd",
    );
    assert_eq!(cluster.get_prefix("/service_sgin_bx/upstream/web/").len(), 2);

    // --- A render nginx rejects (a privileged write that breaks the syntax): the live
    // config and the traffic stay as they are; it is logged; the next good change applies.
    let live = bx.config();
    let traffic = Traffic::start(bx.port, "www.example.com");
    ctl.ok(&["put", "/service_sgin_bx/upstream/web/evil", "127.0.0.1:1 no_such_parameter"]);
    assert!(
        wait_until(WAIT, || bx.confd.log().contains("no_such_parameter")),
        "the rejected render is not logged:\n{}",
        bx.confd.log()
    );
    thread::sleep(Duration::from_millis(500));
    assert_eq!(bx.config(), live, "the live config changed after a failed check");
    let bx_web3 = Backend::start("bx-web-3");
    let _agent3 = agent(&cluster, "bx", "web", &web, &bx_web3, secrets, logs);
    ctl.ok(&["del", "/service_sgin_bx/upstream/web/evil"]);
    bx.wait_config("the next good change applies", |c| c.contains(&bx_web3.addr()));
    assert!(!bx.config().contains("no_such_parameter"));
    let (total, failures) = traffic.finish();
    assert!(failures.is_empty(), "{} of {total} requests failed: {:?}", failures.len(), failures);
    routes(bx.port, "www.example.com", 30, &["bx-web-1", "bx-web-2", "bx-web-3"]);

    // --- A backend stops: out of rotation with no failed request (nginx retries the next
    // upstream until the agent's deregistration reaches nginx.conf).
    let traffic = Traffic::start(bx.port, "www.example.com");
    bx_web2.stop();
    bx.wait_config("bx-web-2 out of rotation", |c| !c.contains(&bx_web2.addr()));
    thread::sleep(Duration::from_millis(300));
    let (total, failures) = traffic.finish();
    assert!(failures.is_empty(), "{} of {total} requests failed: {:?}", failures.len(), failures);
    routes(bx.port, "www.example.com", 20, &["bx-web-1", "bx-web-3"]);

    // --- A burst of 50 new instances, registered as one registrar does it (as the Docker
    // mode does for the containers of a host): one connection, one lease, one transaction per
    // instance. At most 3 reloads.
    let before = bx.reloads();
    let mut cfg = confd_etcd::EtcdConfig::new(cluster.endpoints());
    (cfg.username, cfg.password) = (Some("registrar-bx".into()), Some(reg_bx.clone()));
    let registrar = confd_etcd::Etcd::connect(cfg).unwrap();
    let lease = registrar.grant(30).unwrap();
    let started = std::time::Instant::now();
    for i in 0..50 {
        let key = format!("/service_sgin_bx/upstream/web/burst-{i}");
        registrar.register(lease.id, &[], &[(key, bx_web1.addr())]).unwrap();
    }
    let burst = started.elapsed();
    bx.wait_config("all 50 instances rendered", |c| {
        c.matches(&format!("server {};", bx_web1.addr())).count() == 51
    });
    thread::sleep(Duration::from_millis(1500)); // any late reload of the burst
    let burst_reloads = bx.reloads() - before;
    assert!(
        (1..=3).contains(&burst_reloads),
        "{burst_reloads} reloads for a burst of 50 registrations over {burst:?}"
    );
    registrar.revoke(lease.id).unwrap();
    bx.wait_config("the burst removed", |c| !c.contains("burst"));

    // --- An etcd member killed: traffic and registration go on.
    let traffic = Traffic::start(bx.port, "www.example.com");
    cluster.member(0).kill();
    let bx_web4 = Backend::start("bx-web-4");
    let _agent4 = agent(&cluster, "bx", "web", &web, &bx_web4, secrets, logs);
    bx.wait_config("a new backend registers with a member down", |c| c.contains(&bx_web4.addr()));
    bx_web3.stop();
    bx.wait_config("a backend leaves with a member down", |c| !c.contains(&bx_web3.addr()));
    let (total, failures) = traffic.finish();
    assert!(failures.is_empty(), "{} of {total} requests failed: {:?}", failures.len(), failures);
    routes(bx.port, "www.example.com", 20, &["bx-web-1", "bx-web-4"]);
    routes(yz.port, "www.example.com", 5, &["yz-web-1"]);

    // Every config confd installed passed nginx -t; the last one still does.
    bx.prefix.test(Path::new("conf/nginx.conf")).unwrap();
    yz.prefix.test(Path::new("conf/nginx.conf")).unwrap();
}

/// `examples/seed/demo.sh`, as a new user runs it (with the binaries this test run built):
/// it must run to completion and leave no process and no file behind.
#[test]
fn the_demo_runs_to_completion_and_leaves_nothing_behind() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let tmp = tempfile::tempdir().unwrap();
    // The demo's nginx workers run as nobody when the tests run as root.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = tmp.path().join("demo.log");
    let started = std::time::Instant::now();
    let mut child = Command::new("bash")
        .arg(repo().join("examples/seed/demo.sh"))
        .env("CONFD_BIN", CONFD)
        .env("REGISTER_BIN", register_bin())
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(tmp.path().join("demo.err")).unwrap())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut status = None;
    wait_until(Duration::from_secs(240), || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    let output = || {
        let read = |f: &str| std::fs::read_to_string(tmp.path().join(f)).unwrap_or_default();
        format!("{}\n--- stderr:\n{}", read("demo.log"), read("demo.err"))
    };
    if status.is_none() {
        if let Some(pg) = rustix::process::Pid::from_raw(child.id() as i32) {
            let _ = rustix::process::kill_process_group(pg, rustix::process::Signal::KILL);
        }
        let _ = child.wait();
        panic!("the demo did not end within 240 s:\n{}", output());
    }
    eprintln!("the demo ran for {:.1} s", started.elapsed().as_secs_f64());
    assert!(status.unwrap().success(), "the demo failed:\n{}", output());
    assert!(output().contains("summary"), "{}", output());

    // Nothing of it runs any more: no process has the demo's directory in its command line.
    let marker = tmp.path().to_string_lossy().into_owned();
    let mut left = Vec::new();
    wait_until(Duration::from_secs(5), || {
        left = processes_mentioning(&marker);
        left.is_empty()
    });
    assert!(left.is_empty(), "the demo left processes behind: {left:?}");
    let files: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("confd-seed-demo."))
        .collect();
    assert!(files.is_empty(), "the demo left {files:?} in {marker}");
}

/// `pid: command line` of every process whose command line contains `text`.
fn processes_mentioning(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) || name == std::process::id().to_string() {
            continue;
        }
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
        if cmdline.contains(text) {
            found.push(format!("{name}: {cmdline}"));
        }
    }
    found
}

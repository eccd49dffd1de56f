//! What the tests of the seed's system share: backends that answer with their name, requests
//! by Host through nginx, background traffic, one data centre's front (its nginx and its
//! `confd -watch` on the shipped production templates), and `confd-register` agents.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use testkit::nginx::{Nginx, NginxPrefix};
use testkit::{free_port, wait_until, EtcdCluster};

pub const CONFD: &str = env!("CARGO_BIN_EXE_confd");
pub const WAIT: Duration = Duration::from_secs(20);
pub const REDIRECT: &str = "http://default.invalid/";

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// confd-register, built beside confd by `cargo test --workspace`.
pub fn register_bin() -> PathBuf {
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
pub struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    pub fn spawn(name: &str, cmd: &mut Command, logs: &Path) -> Proc {
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

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends `sig` to the process.
    pub fn signal(&self, sig: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).expect("a pid");
        rustix::process::kill_process(pid, sig).expect("the process runs");
    }

    /// Kills it (and its process group) and waits for it.
    pub fn kill(&mut self) {
        if let Some(pg) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process_group(pg, rustix::process::Signal::KILL);
        }
        let _ = self.child.wait();
    }

    /// Whether it has not exited yet.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
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
pub struct Backend {
    name: String,
    port: u16,
    stop: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Backend {
    pub fn start(name: &str) -> Backend {
        Backend::start_on(name, 0)
    }

    /// A backend on `port` (0: any free one), e.g. one coming back where it was.
    pub fn start_on(name: &str, port: u16) -> Backend {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
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

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn stop(&self) {
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
        if head.starts_with("GET /stream ") {
            stream(conn);
            return;
        }
        let body =
            if head.starts_with("GET /health ") { "ok".to_string() } else { name.to_string() };
        let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        if conn.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// The lines of `GET /stream`: one every [`STREAM_EVERY`], [`STREAM_LINES`] in all.
pub const STREAM_LINES: usize = 300;
pub const STREAM_EVERY: Duration = Duration::from_millis(100);

/// The `i`th line of a stream.
pub fn stream_line(i: usize) -> String {
    format!("line {i:03} of a long response\n")
}

/// A slow response of known length and content, as a download or a stream of events.
fn stream(conn: &mut TcpStream) {
    let body_len: usize = (0..STREAM_LINES).map(|i| stream_line(i).len()).sum();
    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {body_len}\r\n\r\n");
    if conn.write_all(head.as_bytes()).is_err() {
        return;
    }
    for i in 0..STREAM_LINES {
        if conn.write_all(stream_line(i).as_bytes()).is_err() {
            return;
        }
        thread::sleep(STREAM_EVERY);
    }
}

/// `GET path` with `Host: host` through nginx, read to the end: (status, head, body).
fn fetch(
    port: u16,
    host: &str,
    path: &str,
    timeout: Duration,
) -> Result<(u16, String, String), String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(timeout)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).map_err(|e| e.to_string())?;
    let (head, body) = raw.split_once("\r\n\r\n").ok_or("no header end")?;
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or("no status")?;
    Ok((status, head.to_string(), body.to_string()))
}

/// `GET path` with `Host: host` through nginx, read to the end: (status, body).
pub fn get(port: u16, host: &str, path: &str, timeout: Duration) -> Result<(u16, String), String> {
    fetch(port, host, path, timeout).map(|(status, _, body)| (status, body))
}

/// `GET /` with `Host: host` on nginx's port: (status, body, Location).
pub fn request(port: u16, host: &str) -> Result<(u16, String, String), String> {
    let (status, head, body) = fetch(port, host, "/", Duration::from_secs(10))?;
    let location =
        head.lines().find_map(|l| l.strip_prefix("Location: ")).unwrap_or_default().to_string();
    Ok((status, body, location))
}

/// Waits (nginx applies a reload a moment after `nginx -s reload` returns) until `n`
/// requests for `host` are all answered, by exactly the backends `expected`; panics with what
/// was seen last if that does not happen within [`WAIT`].
pub fn routes(port: u16, host: &str, n: usize, expected: &[&str]) {
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
pub struct Traffic {
    stop: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<(usize, Vec<String>)>>,
}

impl Traffic {
    pub fn start(port: u16, host: &'static str) -> Traffic {
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
    pub fn finish(mut self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.take().unwrap().join().unwrap()
    }
}

impl Drop for Traffic {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Which shipped confdir a front runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// `examples/seed/production`: instances in nginx.conf, a reload per change.
    Production,
    /// `examples/seed/dynamic`: live membership, pushed without a reload.
    Dynamic,
}

impl Mode {
    fn dir(self) -> PathBuf {
        match self {
            Mode::Production => repo().join("examples/seed/production"),
            Mode::Dynamic => repo().join("examples/seed/dynamic"),
        }
    }
}

/// One data centre's front: nginx with its own prefix, and its confd.
pub struct Front {
    pub port: u16,
    pub mode: Mode,
    reloads: PathBuf,
    // Dropped in this order: confd and nginx stop before their directories go.
    pub confd: Proc,
    nginx: Option<Nginx>,
    pub prefix: NginxPrefix,
    confdir: tempfile::TempDir,
    launch: Launch,
}

/// How the front's confd is started.
struct Launch {
    nodes: Vec<String>,
    dc: String,
    secrets: Option<PathBuf>,
    logs: PathBuf,
}

impl Front {
    /// `secrets` holds `confd-<dc>.password` when etcd has authentication on (as
    /// `examples/seed/etcd-rbac.sh` writes it); `None` reads anonymously.
    pub fn start(cluster: &EtcdCluster, dc: &str, secrets: Option<&Path>, logs: &Path) -> Front {
        Front::start_mode(cluster, dc, secrets, logs, Mode::Production)
    }

    pub fn start_mode(
        cluster: &EtcdCluster,
        dc: &str,
        secrets: Option<&Path>,
        logs: &Path,
        mode: Mode,
    ) -> Front {
        let prefix = NginxPrefix::new();
        let port = free_port();
        let confdir = tempfile::tempdir().unwrap();
        let reloads = confdir.path().join("reloads");
        std::fs::create_dir(confdir.path().join("conf.d")).unwrap();
        let shipped = mode.dir();
        copy_dir(&shipped.join("templates"), &confdir.path().join("templates"));
        if mode == Mode::Dynamic {
            copy_dir(&shipped.join("lua"), &prefix.path().join("lua"));
            std::fs::create_dir(prefix.path().join("state")).unwrap();
            let run = prefix.path().join("run");
            std::fs::create_dir(&run).unwrap();
            std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .unwrap();
        }
        // The shipped resources, with this data centre's prefix, dest and push, and every
        // reload counted.
        for e in std::fs::read_dir(shipped.join("conf.d")).unwrap() {
            let e = e.unwrap();
            let toml = std::fs::read_to_string(e.path()).unwrap();
            let toml = adapt(&toml, dc, &prefix, &reloads);
            std::fs::write(confdir.path().join("conf.d").join(e.file_name()), toml).unwrap();
        }
        let launch = Launch {
            nodes: cluster.endpoints(),
            dc: dc.to_string(),
            secrets: secrets.map(Path::to_path_buf),
            logs: logs.to_path_buf(),
        };
        // The first config, before nginx runs: rendered without check and reload.
        let first = confd_cmd(&launch, confdir.path(), &prefix, port, &["-onetime", "-sync-only"])
            .output()
            .unwrap();
        assert!(first.status.success(), "first render: {}", String::from_utf8_lossy(&first.stderr));
        prefix.test(Path::new("conf/nginx.conf")).expect("nginx -t of the first config");
        let nginx = Some(prefix.start(port));
        let mut watch = confd_cmd(&launch, confdir.path(), &prefix, port, &["-watch"]);
        let confd = Proc::spawn(&format!("confd-{dc}"), &mut watch, logs);
        Front { port, mode, reloads, confd, nginx, prefix, confdir, launch }
    }

    /// Starts `confd -watch` again (after the test stopped it).
    pub fn start_confd(&self) -> Proc {
        let l = &self.launch;
        let mut cmd = confd_cmd(l, self.confdir.path(), &self.prefix, self.port, &["-watch"]);
        Proc::spawn(&format!("confd-{}-again", l.dc), &mut cmd, &l.logs)
    }

    /// Stops nginx gracefully.
    pub fn stop_nginx(&mut self) {
        if let Some(nginx) = self.nginx.take() {
            nginx.stop();
        }
    }

    /// Starts nginx on the config it has.
    pub fn start_nginx(&mut self) {
        assert!(self.nginx.is_none(), "nginx runs already");
        self.nginx = Some(self.prefix.start(self.port));
    }

    pub fn nginx(&self) -> &Nginx {
        self.nginx.as_ref().expect("nginx runs")
    }

    pub fn config(&self) -> String {
        std::fs::read_to_string(self.prefix.conf()).unwrap_or_default()
    }

    /// The membership snapshot file (dynamic mode).
    pub fn membership(&self) -> String {
        std::fs::read_to_string(self.prefix.path().join("state/membership.json"))
            .unwrap_or_default()
    }

    pub fn reloads(&self) -> usize {
        std::fs::read_to_string(&self.reloads).map(|s| s.lines().count()).unwrap_or(0)
    }

    pub fn wait_config(&self, what: &str, f: impl Fn(&str) -> bool) {
        assert!(
            wait_until(WAIT, || f(&self.config())),
            "{what}: not within {WAIT:?}; config:\n{}\nconfd log:\n{}",
            self.config(),
            self.confd.log()
        );
    }
}

/// The front's confd, in `mode` (`-watch`, `-onetime`…).
fn confd_cmd(
    l: &Launch,
    confdir: &Path,
    prefix: &NginxPrefix,
    port: u16,
    mode: &[&str],
) -> Command {
    let mut cmd = Command::new(CONFD);
    cmd.args(["-backend", "etcdv3"]);
    if let Some(secrets) = &l.secrets {
        cmd.args(["-basic-auth", "-username", &format!("confd-{}", l.dc)])
            .arg("-password-file")
            .arg(secrets.join(format!("confd-{}.password", l.dc)));
    }
    cmd.arg("-confdir")
        .arg(confdir)
        .args(["-config-file", "/nonexistent", "-log-level", "debug"])
        .args(mode)
        .env("NGINX_PREFIX", prefix.path())
        .env("NGINX_PORT", port.to_string())
        .env("NGINX_ADDR", "127.0.0.1")
        .env("DEFAULT_REDIRECT", REDIRECT);
    for n in &l.nodes {
        cmd.args(["-node", n]);
    }
    cmd
}

/// A shipped resource file for data centre `dc` in `prefix`, its reloads counted in `reloads`.
fn adapt(toml: &str, dc: &str, prefix: &NginxPrefix, reloads: &Path) -> String {
    let inside = |rel: &str| prefix.path().join(rel).display().to_string();
    toml.lines()
        .map(|l| {
            if l.starts_with("prefix = ") {
                format!("prefix = \"/service_sgin_{dc}\"")
            } else if l.starts_with("dest = ") && l.contains("membership") {
                format!("dest = \"{}\"", inside("state/membership.json"))
            } else if l.starts_with("dest = ") {
                format!("dest = \"{}\"", prefix.conf().display())
            } else if l.starts_with("push = ") {
                format!("push = \"unix:{}\"", inside("run/push.sock"))
            } else if let Some(cmd) = l.strip_prefix("reload_cmd = \"") {
                format!("reload_cmd = \"echo reload >> {} && {cmd}", reloads.display())
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// A `confd-register` agent for `backend`, as its data centre's registrar.
pub fn agent(
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

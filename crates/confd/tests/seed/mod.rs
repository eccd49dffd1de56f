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
        let body =
            if head.starts_with("GET /health ") { "ok".to_string() } else { name.to_string() };
        let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        if conn.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// `GET /` with `Host: host` on nginx's port: (status, body, Location).
pub fn request(port: u16, host: &str) -> Result<(u16, String, String), String> {
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

/// One data centre's front: nginx with its own prefix, and its confd.
pub struct Front {
    pub port: u16,
    reloads: PathBuf,
    // Dropped in this order: confd and nginx stop before their directories go.
    pub confd: Proc,
    _nginx: Nginx,
    pub prefix: NginxPrefix,
    _confdir: tempfile::TempDir,
}

impl Front {
    /// `secrets` holds `confd-<dc>.password` when etcd has authentication on (as
    /// `examples/seed/etcd-rbac.sh` writes it); `None` reads anonymously.
    pub fn start(cluster: &EtcdCluster, dc: &str, secrets: Option<&Path>, logs: &Path) -> Front {
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
            cmd.args(["-backend", "etcdv3"]);
            if let Some(secrets) = secrets {
                cmd.args(["-basic-auth", "-username", &format!("confd-{dc}")])
                    .arg("-password-file")
                    .arg(secrets.join(format!("confd-{dc}.password")));
            }
            cmd.arg("-confdir")
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

    pub fn config(&self) -> String {
        std::fs::read_to_string(self.prefix.conf()).unwrap_or_default()
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

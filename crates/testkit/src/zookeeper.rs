//! A real standalone ZooKeeper server (Debian `zookeeper`, 3.8) on a loopback port, and a
//! blocking writer for tests to change its tree.
//!
//! The server is the JVM running `org.apache.zookeeper.server.ZooKeeperServerMain` straight
//! from `/usr/share/java/zookeeper.jar` (its manifest names the jars it needs), with a small
//! heap and a quick-starting JIT; `zkServer.sh` would add nothing but a pid-file dance.
//! Writes go through the `zookeeper-client` crate on a small runtime of the server's own:
//! `zkCli.sh` costs a JVM start per call.
//!
//! ```no_run
//! let zk = testkit::zookeeper::ZookeeperServer::start();
//! zk.create("/app/db/host", "10.0.0.1"); // parents are made
//! zk.set("/app/db/host", "10.0.0.2");
//! zk.delete("/app"); // and everything below
//! zk.stop(); // SIGKILL; the data dir stays
//! zk.restart(); // same port, same data
//! zk.pause(); // SIGSTOP: a hung server
//! zk.resume();
//! ```

use std::fs::{self, OpenOptions};
use std::future::Future;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use zookeeper_client::{Acls, Client, CreateMode, Error as ZkError};

use crate::util::{file_tail, free_port, wait_until, ServerProcess, Watchdog};

/// The server's jar; its manifest's `Class-Path` names its dependencies.
const ZOOKEEPER_JAR: &str = "/usr/share/java/zookeeper.jar";
/// An SLF4J binding, so the server logs (to stderr, our log file). Optional.
const SLF4J_SIMPLE_JAR: &str = "/usr/share/java/slf4j-simple.jar";
/// How long a start or restart may take before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one write may keep retrying across connection trouble.
const WRITE_TIMEOUT: Duration = Duration::from_secs(20);
const LOG_TAIL_LINES: usize = 30;

/// A running standalone ZooKeeper server in its own temporary directory. Dropping it kills
/// (SIGCONT, then SIGKILL) and reaps the server and removes the directory, also when a test
/// panics; if the test process dies without unwinding, a watchdog does the same.
pub struct ZookeeperServer {
    port: u16,
    cfg_path: PathBuf,
    data_dir: PathBuf,
    log_path: PathBuf,
    pid_path: PathBuf,
    process: Mutex<ServerProcess>,
    writer: Writer,
    _watchdog: Watchdog,
    dir: TempDir,
}

impl ZookeeperServer {
    /// Starts a server on a free port and waits until it serves (`srvr` answers
    /// `Mode: standalone`). Panics, quoting its log, if that takes more than 30 s or it exits.
    pub fn start() -> ZookeeperServer {
        assert!(
            Path::new(ZOOKEEPER_JAR).exists(),
            "testkit: {ZOOKEEPER_JAR} is missing (Debian package zookeeper)"
        );
        let dir = tempfile::Builder::new()
            .prefix("testkit-zookeeper-")
            .tempdir()
            .unwrap_or_else(|e| panic!("testkit: creating a temporary directory: {e}"));
        let pid_path = dir.path().join("zookeeper.pid");
        let mut server = ZookeeperServer {
            port: 0,
            cfg_path: dir.path().join("zoo.cfg"),
            data_dir: dir.path().join("data"),
            log_path: dir.path().join("zookeeper.log"),
            _watchdog: Watchdog::start(dir.path(), dir.path()),
            pid_path,
            process: Mutex::new(ServerProcess { child: None, paused: false }),
            writer: Writer::new(),
            dir,
        };
        // A port from free_port() can be taken by another process before the server binds it;
        // then it exits with "Address already in use" and we try again on another port.
        const ATTEMPTS: usize = 3;
        for attempt in 1..=ATTEMPTS {
            server.port = free_port();
            server.writer.addr = server.addr();
            write_config(&server.cfg_path, &server.data_dir, server.port);
            server.spawn();
            let Err(why) = server.wait_serving() else {
                return server;
            };
            let log = fs::read_to_string(&server.log_path).unwrap_or_default();
            if !(log.contains("Address already in use") && attempt < ATTEMPTS) {
                panic!("testkit: zookeeper did not start: {why}\n{}", server.log_tail());
            }
            server.stop();
            let _ = fs::remove_file(&server.log_path);
            let _ = fs::remove_dir_all(&server.data_dir);
        }
        unreachable!()
    }

    /// `host:port` of the client port, e.g. `127.0.0.1:41234`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's directory (config, data dir, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The last lines of the server's log (SLF4J simple logger on stderr).
    pub fn log_tail(&self) -> String {
        file_tail(&self.log_path, LOG_TAIL_LINES)
    }

    /// Creates `path` with `data`, and its missing parents (empty). Panics if `path` exists.
    pub fn create(&self, path: &str, data: &str) {
        let (p, d) = (path.to_string(), data.as_bytes().to_vec());
        self.write("create", path, move |c| {
            let (p, d) = (p.clone(), d.clone());
            async move { create_with_parents(&c, &p, &d).await }
        });
    }

    /// Sets the data of `path`, which must exist.
    pub fn set(&self, path: &str, data: &str) {
        let (p, d) = (path.to_string(), data.as_bytes().to_vec());
        self.write("set", path, move |c| c.set_data(&p, &d, None));
    }

    /// Sets the data of `path`, creating it (and its parents) if needed.
    pub fn put(&self, path: &str, data: &str) {
        let (p, d) = (path.to_string(), data.as_bytes().to_vec());
        self.write("put", path, move |c| {
            let (p, d) = (p.clone(), d.clone());
            async move {
                match c.set_data(&p, &d, None).await {
                    Err(ZkError::NoNode) => create_with_parents(&c, &p, &d).await,
                    other => other.map(drop),
                }
            }
        });
    }

    /// Deletes `path` and everything below it. No-op if it does not exist.
    pub fn delete(&self, path: &str) {
        let p = path.to_string();
        self.write("delete", path, move |c| {
            let p = p.clone();
            async move { delete_tree(&c, &p).await }
        });
    }

    /// The data of `path` (UTF-8, bad bytes replaced), or `None` if it does not exist.
    pub fn get(&self, path: &str) -> Option<String> {
        let p = path.to_string();
        let got = self.writer.run(move |c| c.get_data(&p));
        match got {
            Ok((data, _)) => Some(String::from_utf8_lossy(&data).into_owned()),
            Err(ZkError::NoNode) => None,
            Err(e) => panic!("testkit: zookeeper get {path}: {e}\n{}", self.log_tail()),
        }
    }

    /// Kills the server (SIGCONT if paused, then SIGKILL) and reaps it; its data dir stays
    /// for [`ZookeeperServer::restart`]. No-op if it is not running.
    pub fn stop(&self) {
        lock(&self.process).kill(&self.pid_path);
    }

    /// Starts a stopped server again on the same port and data dir (the tree and the
    /// sessions it knew survive), and waits until it serves. Panics if it is running, or
    /// (quoting its log) if it does not serve within 30 s.
    pub fn restart(&self) {
        assert!(!self.is_running(), "testkit: restart() of a running zookeeper; stop() it first");
        self.spawn();
        if let Err(why) = self.wait_serving() {
            panic!("testkit: restarted zookeeper: {why}\n{}", self.log_tail());
        }
    }

    /// [`ZookeeperServer::restart`] on an emptied data dir: a store that forgot its tree and
    /// its sessions, as a wiped or rebuilt one would. The server refuses clients that have
    /// seen later transactions than it has ("client must try another server"), so their
    /// sessions end only when they expire on the client's side; this harness's own writer
    /// starts a new session at once.
    pub fn restart_empty(&self) {
        assert!(!self.is_running(), "testkit: restart_empty() of a running zookeeper");
        let _ = fs::remove_dir_all(&self.data_dir);
        lock(&self.writer.client).take();
        self.restart();
    }

    /// Whether the server process runs (possibly paused).
    pub fn is_running(&self) -> bool {
        lock(&self.process).child.is_some()
    }

    /// Freezes the server with SIGSTOP (a hung server: its port accepts connections, nothing
    /// answers) and waits until all its threads are stopped. Panics if it is not running.
    pub fn pause(&self) {
        lock(&self.process).pause("zookeeper");
    }

    /// Thaws a paused server with SIGCONT. No-op if it is not paused.
    pub fn resume(&self) {
        lock(&self.process).resume();
    }

    fn spawn(&self) {
        let mut process = lock(&self.process);
        assert!(process.child.is_none());
        let started = (|| -> std::io::Result<Child> {
            let log = OpenOptions::new().create(true).append(true).open(&self.log_path)?;
            writeln!(&log, "--- testkit: starting zookeeper on port {}", self.port)?;
            let mut classpath = ZOOKEEPER_JAR.to_string();
            if Path::new(SLF4J_SIMPLE_JAR).exists() {
                classpath = format!("{classpath}:{SLF4J_SIMPLE_JAR}");
            }
            let child = Command::new("java")
                .args([
                    "-Xmx128m",
                    "-Xss512k",
                    "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1",
                    "-XX:-UsePerfData",
                    "-Djava.net.preferIPv4Stack=true",
                    "-Dzookeeper.forceSync=no",
                    "-Dzookeeper.snapshot.trust.empty=true",
                    "-Dorg.slf4j.simpleLogger.showDateTime=true",
                    "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
                    "-cp",
                    &classpath,
                    "org.apache.zookeeper.server.ZooKeeperServerMain",
                ])
                .arg(&self.cfg_path)
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .spawn()?;
            fs::write(&self.pid_path, child.id().to_string())?;
            Ok(child)
        })();
        let child = started.unwrap_or_else(|e| {
            panic!(
                "testkit: cannot start java for zookeeper: {e} (Debian packages: zookeeper, a JRE)"
            )
        });
        process.child = Some(child);
        process.paused = false;
    }

    /// Waits until `srvr` says the server serves, or it exits, or [`START_TIMEOUT`] passes.
    fn wait_serving(&self) -> Result<(), String> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut exited = None;
        let serving = wait_until(START_TIMEOUT, || {
            exited = lock(&self.process).child.as_mut().and_then(|c| c.try_wait().ok().flatten());
            exited.is_some() || four_letter_word(addr, "srvr").contains("Mode: standalone")
        });
        match exited {
            Some(status) => Err(format!("it exited ({status})")),
            None if serving => Ok(()),
            None => Err(format!("not serving within {START_TIMEOUT:?}")),
        }
    }

    /// Runs a write through the writer, panicking with the server's log if it fails.
    fn write<T, F, Fut>(&self, what: &str, path: &str, op: F)
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, ZkError>> + Send,
    {
        if let Err(e) = self.writer.run(op) {
            panic!("testkit: zookeeper {what} {path}: {e}\n{}", self.log_tail());
        }
    }
}

impl Drop for ZookeeperServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn write_config(path: &Path, data_dir: &Path, port: u16) {
    // tickTime 500 ms: sessions are checked for expiry twice a second; maxSessionTimeout
    // raised so that clients get the session timeout they ask for (up to 30 s).
    let cfg = format!(
        "tickTime=500\n\
         maxSessionTimeout=30000\n\
         dataDir={}\n\
         clientPort={port}\n\
         clientPortAddress=127.0.0.1\n\
         admin.enableServer=false\n\
         4lw.commands.whitelist=srvr,ruok,stat,cons\n",
        data_dir.display()
    );
    fs::write(path, cfg).unwrap_or_else(|e| panic!("testkit: writing {}: {e}", path.display()));
}

/// The answer to a ZooKeeper four-letter word, or "" if there is none within a second.
fn four_letter_word(addr: SocketAddr, word: &str) -> String {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(300)) else {
        return String::new();
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let mut answer = String::new();
    if stream.write_all(word.as_bytes()).is_ok() {
        let _ = stream.read_to_string(&mut answer);
    }
    answer
}

/// Creates the missing ancestors of `path` (empty), then `path`.
async fn create_with_parents(c: &Client, path: &str, data: &[u8]) -> Result<(), ZkError> {
    let options = CreateMode::Persistent.with_acls(Acls::anyone_all());
    for (i, _) in path.match_indices('/').skip(1) {
        match c.create(&path[..i], b"", &options).await {
            Ok(_) | Err(ZkError::NodeExists) => {}
            Err(e) => return Err(e),
        }
    }
    c.create(path, data, &options).await.map(drop)
}

/// Deletes `path` and its descendants, deepest first. Missing nodes are fine.
async fn delete_tree(c: &Client, path: &str) -> Result<(), ZkError> {
    let mut all = vec![path.to_string()];
    let mut i = 0;
    while i < all.len() {
        match c.get_children(&all[i]).await {
            Ok((children, _)) => {
                let parent = all[i].clone();
                let sep = if parent == "/" { "" } else { "/" };
                all.extend(children.iter().map(|child| format!("{parent}{sep}{child}")));
            }
            Err(ZkError::NoNode) => {}
            Err(e) => return Err(e),
        }
        i += 1;
    }
    for p in all.iter().rev() {
        match c.delete(p, None).await {
            Ok(()) | Err(ZkError::NoNode) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One client session on a runtime of its own, made again when it is over.
struct Writer {
    /// `Some` until drop; shut down in the background there (safe in any context).
    rt: Option<tokio::runtime::Runtime>,
    addr: String,
    client: Mutex<Option<Client>>,
}

impl Writer {
    /// A writer; `addr` is set before its first use.
    fn new() -> Writer {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("testkit-zookeeper")
            .enable_time()
            .build()
            .unwrap_or_else(|e| panic!("testkit: cannot start a tokio runtime: {e}"));
        Writer { rt: Some(rt), addr: String::new(), client: Mutex::new(None) }
    }

    /// Runs `op` on a live session, each try limited to 5 s; tries again for up to
    /// [`WRITE_TIMEOUT`] while the failure is the connection's (a server restarting).
    fn run<T, F, Fut>(&self, op: F) -> Result<T, ZkError>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, ZkError>> + Send,
    {
        let rt = self.rt.as_ref().expect("runtime lives until drop");
        let deadline = Instant::now() + WRITE_TIMEOUT;
        loop {
            let result = rt.block_on(async {
                let client = self.client().await?;
                let limit = Duration::from_secs(5);
                tokio::time::timeout(limit, op(client)).await.unwrap_or(Err(ZkError::Timeout))
            });
            match result {
                Err(e) if is_connection_error(&e) && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                other => return other,
            }
        }
    }

    /// The cached client if its session is not over, else a new one.
    async fn client(&self) -> Result<Client, ZkError> {
        if let Some(client) = lock(&self.client).as_ref() {
            if !client.state().is_terminated() {
                return Ok(client.clone());
            }
        }
        let connect = Client::connector()
            .with_session_timeout(Duration::from_secs(10))
            .with_fail_eagerly()
            .connect(&self.addr);
        let client = tokio::time::timeout(Duration::from_secs(5), connect)
            .await
            .unwrap_or(Err(ZkError::Timeout))?;
        *lock(&self.client) = Some(client.clone());
        Ok(client)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        lock(&self.client).take();
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

fn is_connection_error(e: &ZkError) -> bool {
    matches!(
        e,
        ZkError::ConnectionLoss
            | ZkError::SessionExpired
            | ZkError::Timeout
            | ZkError::NoHosts
            | ZkError::ClientClosed
            | ZkError::Custom(_)
    )
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

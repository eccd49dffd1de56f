//! Real redis servers (Debian `redis-server`, 7.0) on free loopback ports, for the redis
//! backend's integration tests.
//!
//! Each [`RedisServer`] runs `/usr/bin/redis-server --daemonize no --bind 127.0.0.1 --save ""
//! --appendonly no` in a temporary directory of its own (log, unix socket, pid file), so
//! nothing is persisted: a restarted server starts empty, with the same port and settings.
//! Tests talk to it through [`RedisServer::cli`] and friends, a small RESP client over
//! `TcpStream` in this module (binary-safe, with 5 s timeouts), not through the code under
//! test.
//!
//! Clean-up follows the crate's rules: dropping the guard (also while a test panics) resumes a
//! paused server, kills it with SIGKILL, reaps it and removes the directory; if the test
//! process dies without unwinding, a small watchdog (`sh`, reading a pipe only the test
//! process writes to) kills the server named in the pid file and removes the directory.
//!
//! ```no_run
//! use testkit::redis::{RedisOptions, RedisServer};
//!
//! let server = RedisServer::start(RedisOptions::default().notify("K$ghx").password("pw"));
//! server.cli(&["SET", "/key", "foobar"]);
//! assert_eq!(server.cli(&["GET", "/key"]), "foobar");
//! server.pause(); // a hung server (SIGSTOP) ...
//! server.resume(); // ... and back (SIGCONT)
//! server.restart(); // SIGKILL, then the same port and settings, empty
//! ```

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rustix::process::{kill_process, Pid, Signal};
use tempfile::TempDir;

use crate::util::{file_tail, free_port, wait_until, Watchdog};

pub const REDIS_SERVER: &str = "/usr/bin/redis-server";
/// How long a start may take before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// Read and write timeout of the test client.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// How to start a [`RedisServer`]: `RedisOptions::default()` is redis's defaults (no password,
/// keyspace events off, TCP only) on a free port.
#[derive(Clone, Debug, Default)]
pub struct RedisOptions {
    /// `requirepass`: the default user's password.
    pub password: Option<String>,
    /// ACL users, one `--user` rule each: `"confd on >pw ~* &* +@all"`.
    pub users: Vec<String>,
    /// Also listen on `<dir>/redis.sock` ([`RedisServer::socket`]).
    pub unix_socket: bool,
    /// `notify-keyspace-events`; `None` leaves redis's default (off).
    pub notify_keyspace_events: Option<String>,
    /// A fixed port (e.g. one a client already tried); default: a new [`free_port`].
    pub port: Option<u16>,
    /// More `redis-server` options, after testkit's own.
    pub extra_args: Vec<String>,
}

impl RedisOptions {
    /// Sets [`RedisOptions::password`].
    pub fn password(mut self, password: &str) -> Self {
        self.password = Some(password.to_string());
        self
    }
    /// Adds an ACL user ([`RedisOptions::users`]).
    pub fn user(mut self, rule: &str) -> Self {
        self.users.push(rule.to_string());
        self
    }
    /// Sets [`RedisOptions::unix_socket`].
    pub fn unix_socket(mut self) -> Self {
        self.unix_socket = true;
        self
    }
    /// Sets [`RedisOptions::notify_keyspace_events`].
    pub fn notify(mut self, flags: &str) -> Self {
        self.notify_keyspace_events = Some(flags.to_string());
        self
    }
    /// Sets [`RedisOptions::port`].
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }
    /// Appends one option to [`RedisOptions::extra_args`] (split by the caller: `"--maxclients"`,
    /// `"100"`).
    pub fn arg(mut self, arg: &str) -> Self {
        self.extra_args.push(arg.to_string());
        self
    }
}

/// One redis server reply (RESP2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The reply as `redis-cli --raw` prints it: one line per array element, nil as "".
    pub fn text(&self) -> String {
        match self {
            Reply::Status(s) | Reply::Error(s) => s.clone(),
            Reply::Int(n) => n.to_string(),
            Reply::Bulk(b) => String::from_utf8_lossy(b.as_deref().unwrap_or_default()).into(),
            Reply::Array(items) => {
                let items = items.as_deref().unwrap_or_default();
                items.iter().map(Reply::text).collect::<Vec<_>>().join("\n")
            }
        }
    }
}

/// A running redis-server. Dropping it kills (SIGCONT, then SIGKILL) and reaps the server and
/// removes its directory, also when a test panics.
pub struct RedisServer {
    child: Mutex<Option<Child>>,
    paused: AtomicBool,
    port: u16,
    args: Vec<OsString>,
    opts: RedisOptions,
    // Field order is drop order: the watchdog goes before the directory.
    _watchdog: Watchdog,
    dir: TempDir,
}

impl RedisServer {
    /// Starts a server and waits until it answers PING. Panics, quoting its log, if that takes
    /// more than 15 s or it exits. On a port another process took meanwhile it starts again on
    /// a new port (not when [`RedisOptions::port`] fixes it).
    pub fn start(opts: RedisOptions) -> RedisServer {
        let dir = tempfile::Builder::new()
            .prefix("testkit-redis-")
            .tempdir()
            .unwrap_or_else(|e| panic!("testkit: creating a temporary directory: {e}"));
        let watchdog = Watchdog::start(dir.path(), dir.path());
        let mut server = RedisServer {
            child: Mutex::new(None),
            paused: AtomicBool::new(false),
            port: 0,
            args: Vec::new(),
            opts,
            _watchdog: watchdog,
            dir,
        };
        const ATTEMPTS: usize = 3;
        for attempt in 1..=ATTEMPTS {
            server.port = server.opts.port.unwrap_or_else(free_port);
            server.args = server_args(&server.opts, server.dir.path(), server.port);
            match server.spawn_and_wait() {
                Ok(()) => return server,
                Err(why)
                    if why.contains("Address already in use")
                        && server.opts.port.is_none()
                        && attempt < ATTEMPTS =>
                {
                    let _ = std::fs::remove_file(server.dir.path().join("redis.log"));
                }
                Err(why) => panic!("testkit: redis-server did not start: {why}"),
            }
        }
        unreachable!()
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The unix socket (`<dir>/redis.sock`); it exists only with [`RedisOptions::unix_socket`].
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("redis.sock")
    }

    /// The server's directory (log `redis.log`, socket, pid file).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The options it was started with.
    pub fn options(&self) -> &RedisOptions {
        &self.opts
    }

    /// The last `n` lines of the server's log.
    pub fn log_tail(&self, n: usize) -> String {
        file_tail(&self.dir.path().join("redis.log"), n)
    }

    /// Runs one command in database `db` on a new connection (AUTH with the password first):
    /// the reply, or why there is none. Bounded by 5 s timeouts.
    pub fn try_cmd(&self, db: u32, args: &[&[u8]]) -> Result<Reply, String> {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        let mut client = Client::new(stream).map_err(|e| e.to_string())?;
        if let Some(pw) = &self.opts.password {
            client.ok(&[b"AUTH", pw.as_bytes()])?;
        }
        if db != 0 {
            client.ok(&[b"SELECT", db.to_string().as_bytes()])?;
        }
        client.call(args).map_err(|e| e.to_string())
    }

    /// [`RedisServer::try_cmd`] that panics on a failure or an error reply.
    pub fn cmd(&self, db: u32, args: &[&[u8]]) -> Reply {
        let show = || args.iter().map(|a| String::from_utf8_lossy(a)).collect::<Vec<_>>();
        match self.try_cmd(db, args) {
            Ok(Reply::Error(e)) => panic!("testkit: redis {:?} answered {e}", show()),
            Ok(reply) => reply,
            Err(e) => panic!("testkit: redis {:?} failed: {e}\n{}", show(), self.log_tail(20)),
        }
    }

    /// Runs a command in database 0 and returns the reply as `redis-cli --raw` prints it;
    /// panics on an error reply.
    pub fn cli(&self, args: &[&str]) -> String {
        self.cli_db(0, args)
    }

    /// [`RedisServer::cli`] in database `db`.
    pub fn cli_db(&self, db: u32, args: &[&str]) -> String {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.cmd(db, &args).text()
    }

    /// Stops the server hard (SIGKILL, resuming it first if paused) and reaps it.
    pub fn kill(&self) {
        let mut child = self.lock_child();
        if let Some(mut c) = child.take() {
            if self.paused.swap(false, Ordering::Relaxed) {
                let _ = kill_process(Pid::from_child(&c), Signal::CONT);
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(self.pid_file());
    }

    /// Starts the server again after [`RedisServer::kill`]: same port, same settings, no data.
    pub fn start_again(&self) {
        if let Err(why) = self.spawn_and_wait() {
            panic!("testkit: redis-server did not start again on {}: {why}", self.addr());
        }
    }

    /// [`RedisServer::kill`], then [`RedisServer::start_again`].
    pub fn restart(&self) {
        self.kill();
        self.start_again();
    }

    /// SIGSTOP: the server hangs; connections stay open, nothing answers.
    pub fn pause(&self) {
        self.signal(Signal::STOP);
        self.paused.store(true, Ordering::Relaxed);
    }

    /// SIGCONT after [`RedisServer::pause`].
    pub fn resume(&self) {
        self.signal(Signal::CONT);
        self.paused.store(false, Ordering::Relaxed);
    }

    /// Whether the server process is running (paused counts as running).
    pub fn is_running(&self) -> bool {
        let mut child = self.lock_child();
        child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    fn signal(&self, sig: Signal) {
        let child = self.lock_child();
        let c = child.as_ref().expect("testkit: the redis server is not running");
        kill_process(Pid::from_child(c), sig)
            .unwrap_or_else(|e| panic!("testkit: signal {sig:?} to redis-server: {e}"));
    }

    fn lock_child(&self) -> MutexGuard<'_, Option<Child>> {
        self.child.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.path().join("redis.pid")
    }

    /// Spawns the server and waits until it answers; `Err` carries the reason and the log.
    fn spawn_and_wait(&self) -> Result<(), String> {
        let mut cmd = Command::new(REDIS_SERVER);
        cmd.args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let child = cmd.spawn().map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::NotFound {
                " (not installed? Debian package: redis-server)"
            } else {
                ""
            };
            format!("cannot run {REDIS_SERVER}: {e}{hint}")
        })?;
        let pid = child.id();
        *self.lock_child() = Some(child);
        let _ = std::fs::write(self.pid_file(), format!("{pid}\n"));
        let mut exited = false;
        let ready = wait_until(START_TIMEOUT, || {
            if !self.is_running() {
                exited = true;
                return true;
            }
            matches!(self.try_cmd(0, &[b"PING"]), Ok(Reply::Status(s)) if s == "PONG")
        });
        if ready && !exited {
            return Ok(());
        }
        let log = self.log_tail(30);
        self.kill();
        let why = if exited { "it exited" } else { "no PONG within 15 s" };
        Err(format!("{why}; its log:\n{log}"))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn server_args(opts: &RedisOptions, dir: &Path, port: u16) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    let mut push = |a: &str| args.push(a.into());
    for a in ["--port", &port.to_string(), "--bind", "127.0.0.1", "--daemonize", "no"] {
        push(a);
    }
    for a in ["--save", "", "--appendonly", "no", "--dir", &dir.to_string_lossy()] {
        push(a);
    }
    push("--logfile");
    push(&dir.join("redis.log").to_string_lossy());
    if let Some(pw) = &opts.password {
        push("--requirepass");
        push(pw);
    }
    if opts.unix_socket {
        push("--unixsocket");
        push(&dir.join("redis.sock").to_string_lossy());
        push("--unixsocketperm");
        push("700");
    }
    if let Some(flags) = &opts.notify_keyspace_events {
        push("--notify-keyspace-events");
        push(flags);
    }
    for rule in &opts.users {
        push("--user");
        rule.split_whitespace().for_each(&mut push);
    }
    opts.extra_args.iter().for_each(|a| push(a));
    args
}

/// A minimal RESP2 client: commands as arrays of bulk strings, replies parsed recursively.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn new(stream: TcpStream) -> std::io::Result<Client> {
        stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
        stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
        Ok(Client { writer: stream.try_clone()?, reader: BufReader::new(stream) })
    }

    fn call(&mut self, args: &[&[u8]]) -> std::io::Result<Reply> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&out)?;
        self.reply()
    }

    /// A command whose error reply is a failure.
    fn ok(&mut self, args: &[&[u8]]) -> Result<Reply, String> {
        match self.call(args) {
            Ok(Reply::Error(e)) => Err(e),
            Ok(r) => Ok(r),
            Err(e) => Err(e.to_string()),
        }
    }

    fn reply(&mut self) -> std::io::Result<Reply> {
        let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line)?;
        if !line.ends_with(b"\r\n") {
            return Err(bad("connection closed mid-reply"));
        }
        let text = String::from_utf8_lossy(&line[1..line.len() - 2]).into_owned();
        let number = || text.parse::<i64>().map_err(|_| bad("bad length in reply"));
        Ok(match line[0] {
            b'+' => Reply::Status(text),
            b'-' => Reply::Error(text),
            b':' => Reply::Int(number()?),
            b'$' => match usize::try_from(number()?) {
                Err(_) => Reply::Bulk(None),
                Ok(len) => {
                    let mut buf = vec![0; len + 2];
                    self.reader.read_exact(&mut buf)?;
                    buf.truncate(len);
                    Reply::Bulk(Some(buf))
                }
            },
            b'*' => match usize::try_from(number()?) {
                Err(_) => Reply::Array(None),
                Ok(n) => {
                    Reply::Array(Some((0..n).map(|_| self.reply()).collect::<Result<_, _>>()?))
                }
            },
            _ => return Err(bad("unknown reply type")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_carry_the_options() {
        let opts = RedisOptions::default()
            .password("pw")
            .unix_socket()
            .notify("K$ghx")
            .user("confd on >pw2 ~* &* +@all");
        let args = server_args(&opts, Path::new("/tmp/x"), 12345);
        let args: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        let line = args.join(" ");
        assert!(
            line.starts_with("--port 12345 --bind 127.0.0.1 --daemonize no --save  "),
            "{line}"
        );
        for part in [
            "--requirepass pw",
            "--unixsocket /tmp/x/redis.sock",
            "--notify-keyspace-events K$ghx",
            "--user confd on >pw2 ~* &* +@all",
        ] {
            assert!(line.contains(part), "{part} in {line}");
        }
    }
}

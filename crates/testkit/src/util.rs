//! Ports, polling, and running short-lived commands under a hard time limit.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

/// Ports handed out by [`free_port`] in this process, never handed out twice.
static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A TCP port that is free on 127.0.0.1 right now, below the kernel's ephemeral range.
///
/// Ports are picked below `net.ipv4.ip_local_port_range`, so the source port of an outgoing
/// connection (of any test, any process) can never take it before the caller binds it — with
/// `bind(127.0.0.1:0)` it could, and did under load. Within one process (one test binary, all
/// its test threads) no port is returned twice. Another process may still bind the port
/// first; [`crate::EtcdCluster`] notices "address already in use" and starts again on new
/// ports.
pub fn free_port() -> u16 {
    let (low, high) = (10_000u32, ephemeral_start().max(10_001));
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    let mut seed = std::process::id() ^ now.map_or(1, |d| d.subsec_nanos() | 1);
    for _ in 0..1000 {
        // xorshift: enough to spread the tries of concurrent processes
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let port = (low + seed % (high - low)) as u16;
        if handed_out.contains(&port) {
            continue;
        }
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            handed_out.insert(port);
            return port;
        }
    }
    panic!("testkit: no new free port on 127.0.0.1 in {low}..{high} after 1000 tries");
}

/// The first port of the kernel's ephemeral range (32768 when it cannot be read).
fn ephemeral_start() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|p| p.parse().ok()))
        .unwrap_or(32_768)
}

/// Calls `f` every 20 ms until it returns true (→ true) or `timeout` has passed (→ false).
/// `f` is always called at least once, and once more at the deadline.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        thread::sleep((deadline - now).min(Duration::from_millis(20)));
    }
}

/// Runs `cmd` to completion, capturing stdout and stderr, but kills it (SIGKILL to its own
/// process group, so helpers it started die too) if it is still running after `limit`; then the
/// status is the kill's and stderr says so.
/// Panics only if the command cannot be started.
pub(crate) fn run_bounded(cmd: &mut Command, limit: Duration) -> Output {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("testkit: cannot run {program}: {e}{}", install_hint(&e)));
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let mut status = None;
    let finished = wait_until(limit, || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    });
    let mut killed = false;
    let status = match status {
        Some(status) if finished => status,
        _ => {
            killed = true;
            let pgid = rustix::process::Pid::from_child(&child);
            let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
            let _ = child.kill();
            child.wait().unwrap_or_else(|e| panic!("testkit: waiting for {program}: {e}"))
        }
    };
    let stdout = out.join().unwrap_or_default();
    let mut stderr = err.join().unwrap_or_default();
    if killed {
        stderr.extend_from_slice(
            format!("\ntestkit: {program} killed after {limit:?} (time limit)\n").as_bytes(),
        );
    }
    Output { status, stdout, stderr }
}

/// For a program that is not there: which Debian package has it.
pub(crate) fn install_hint(e: &std::io::Error) -> &'static str {
    if e.kind() == std::io::ErrorKind::NotFound {
        " (not installed? Debian packages: etcd-server for etcd, etcd-client for etcdctl, openssl, nginx)"
    } else {
        ""
    }
}

/// The last `n` lines of a (log) file, or a note saying why there are none.
pub(crate) fn file_tail(path: &std::path::Path, n: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// Whether every thread of `pid` is stopped (state `T`/`t` in /proc).
pub(crate) fn all_threads_stopped(pid: u32) -> bool {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().all(|task| {
        let stat = fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // "PID (COMM) STATE ...": the state follows the last ')'.
        let state = stat.rfind(')').and_then(|i| stat[i + 1..].trim_start().chars().next());
        matches!(state, Some('T' | 't'))
    })
}

/// Kills the servers whose pids are in `<pids>/*.pid` and removes `dir` if the test process
/// dies without unwinding (SIGKILL, abort, a runner's timeout): `sh` reads a pipe whose write
/// end only this process holds, so end-of-file means we are gone. Dropping the guard kills the
/// watchdog. Every harness (etcd, redis, zookeeper) keeps its servers this way.
pub(crate) struct Watchdog {
    child: Child,
    _pipe: Option<ChildStdin>,
}

const WATCHDOG_SCRIPT: &str = r#"
dir=$1; pids=$2
read -r _
for f in "$pids"/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")"; done 2>/dev/null
i=0
while [ "$i" -lt 100 ]; do
  alive=
  for f in "$pids"/*.pid; do [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && alive=1; done
  [ -z "$alive" ] && break
  sleep 0.05; i=$((i+1))
done
rm -rf "$dir"
"#;

impl Watchdog {
    pub(crate) fn start(dir: &Path, pids: &Path) -> Watchdog {
        let mut child = Command::new("sh")
            .args(["-c", WATCHDOG_SCRIPT, "testkit-watchdog"])
            .arg(dir)
            .arg(pids)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: a Ctrl-C to the test run does not stop the clean-up.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("testkit: cannot start the watchdog (sh): {e}"));
        let pipe = child.stdin.take();
        Watchdog { child, _pipe: pipe }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Kill it before the pipe closes, so it never acts.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server process a harness started: killed, paused and resumed the same way by every
/// harness (etcd members, ZooKeeper).
#[derive(Default)]
pub(crate) struct ServerProcess {
    pub(crate) child: Option<Child>,
    pub(crate) paused: bool,
}

impl ServerProcess {
    /// SIGCONT if paused, then SIGKILL, and reaps it; `pid_file` (the watchdog's) is removed
    /// before the reaping, so the watchdog never sees a pid that could be reused. No-op if it
    /// is not running.
    pub(crate) fn kill(&mut self, pid_file: &Path) {
        if let Some(mut child) = self.child.take() {
            if self.paused {
                let _ = rustix::process::kill_process(
                    rustix::process::Pid::from_child(&child),
                    rustix::process::Signal::CONT,
                );
                self.paused = false;
            }
            let _ = child.kill();
            let _ = fs::remove_file(pid_file);
            let _ = child.wait();
        }
    }

    /// SIGSTOP, and waits until every thread has stopped. Panics if `what` is not running or
    /// does not stop within 5 s.
    pub(crate) fn pause(&mut self, what: &str) {
        use rustix::process::{kill_process, Pid, Signal};
        let child = self
            .child
            .as_ref()
            .unwrap_or_else(|| panic!("testkit: pause() of {what}, which is not running"));
        let pid = child.id();
        kill_process(Pid::from_child(child), Signal::STOP)
            .unwrap_or_else(|e| panic!("testkit: SIGSTOP {pid}: {e}"));
        self.paused = true;
        assert!(
            wait_until(Duration::from_secs(5), || all_threads_stopped(pid)),
            "testkit: {what} (pid {pid}) did not stop after SIGSTOP"
        );
    }

    /// SIGCONT after [`ServerProcess::pause`]. No-op if it is not paused.
    pub(crate) fn resume(&mut self) {
        use rustix::process::{kill_process, Pid, Signal};
        if let (Some(child), true) = (self.child.as_ref(), self.paused) {
            kill_process(Pid::from_child(child), Signal::CONT)
                .unwrap_or_else(|e| panic!("testkit: SIGCONT {}: {e}", child.id()));
            self.paused = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct_and_bindable() {
        let ports: Vec<u16> = (0..50).map(|_| free_port()).collect();
        let set: BTreeSet<u16> = ports.iter().copied().collect();
        assert_eq!(set.len(), ports.len());
        let ephemeral = ephemeral_start();
        assert!(ports.iter().all(|&p| u32::from(p) >= 10_000 && u32::from(p) < ephemeral));
        for p in ports.iter().take(5) {
            TcpListener::bind((Ipv4Addr::LOCALHOST, *p)).expect("free port is bindable");
        }
    }

    #[test]
    fn wait_until_is_bounded() {
        let start = Instant::now();
        assert!(!wait_until(Duration::from_millis(100), || false));
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(100) && took < Duration::from_secs(2));
        let mut n = 0;
        assert!(wait_until(Duration::from_secs(5), || {
            n += 1;
            n == 3
        }));
    }

    #[test]
    fn run_bounded_kills_a_hung_command() {
        let start = Instant::now();
        let out = run_bounded(
            Command::new("sh").args(["-c", "echo hi; sleep 30; echo never"]),
            Duration::from_millis(300),
        );
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(!out.status.success());
        assert_eq!(out.stdout, b"hi\n");
        assert!(String::from_utf8_lossy(&out.stderr).contains("time limit"));
        let ok = run_bounded(
            Command::new("sh").args(["-c", "echo out; echo err >&2"]),
            Duration::from_secs(10),
        );
        assert!(ok.status.success());
        assert_eq!((ok.stdout.as_slice(), ok.stderr.as_slice()), (&b"out\n"[..], &b"err\n"[..]));
    }
}

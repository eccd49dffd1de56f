//! What the integration tests of confd-register share: the agent as a child process whose
//! stderr is kept, and etcd reads that also show a key's lease.
#![allow(dead_code)] // each test binary uses its own part

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use testkit::{wait_until, EtcdCluster};

pub const BIN: &str = env!("CARGO_BIN_EXE_confd-register");

/// A running confd-register; its stderr goes to a file. Dropping it kills it (SIGKILL).
pub struct Agent {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Agent {
    pub fn start(nodes: &[String], args: &[&str]) -> Agent {
        Self::start_env(nodes, args, &[])
    }

    pub fn start_env(nodes: &[String], args: &[&str], env: &[(&str, &str)]) -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("stderr");
        let mut cmd = Command::new(BIN);
        // The arguments first: they may start with the `docker` subcommand.
        cmd.args(args);
        for n in nodes {
            cmd.args(["--node", n]);
        }
        let child = cmd
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Agent { child, log, _dir: dir }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Log lines at `level` (`ERROR`, `FATAL`, …).
    pub fn lines(&self, level: &str) -> Vec<String> {
        let tag = format!("]: {level} ");
        self.log().lines().filter(|l| l.contains(&tag)).map(str::to_string).collect()
    }

    pub fn signal(&self, sig: rustix::process::Signal) {
        rustix::process::kill_process(rustix::process::Pid::from_child(&self.child), sig).unwrap();
    }

    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let mut status = None;
        wait_until(timeout, || {
            status = self.child.try_wait().unwrap();
            status.is_some()
        });
        status
            .unwrap_or_else(|| panic!("the agent did not exit within {timeout:?}:\n{}", self.log()))
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if thread::panicking() {
            eprintln!("--- agent log:\n{}", self.log());
        }
    }
}

/// The value of `key`, or `None` if it does not exist or etcd did not answer.
pub fn try_get(cluster: &EtcdCluster, key: &str) -> Result<Option<(String, i64)>, String> {
    let out = cluster.ctl().run(&["get", "-w", "json", "--", key]);
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let json = String::from_utf8_lossy(&out.stdout);
    if !json.contains("\"kvs\"") {
        return Ok(None);
    }
    let value = cluster.get(key).unwrap_or_default();
    Ok(Some((value, lease_in(&json))))
}

/// The lease in `etcdctl get -w json` output (0: none, which etcdctl leaves out).
pub fn lease_in(json: &str) -> i64 {
    match json.find("\"lease\":") {
        None => 0,
        Some(at) => json[at + 8..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap(),
    }
}

/// `(value, lease)` of `key`, if it exists.
pub fn get(cluster: &EtcdCluster, key: &str) -> Option<(String, i64)> {
    try_get(cluster, key).unwrap_or_else(|e| panic!("etcdctl get {key}: {e}"))
}

/// Waits until `f` holds; returns how long that took. Panics (with the agent's log) if it
/// does not within `timeout`.
pub fn within(agent: &Agent, timeout: Duration, what: &str, f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    assert!(wait_until(timeout, f), "{what}: not within {timeout:?}; agent log:\n{}", agent.log());
    start.elapsed()
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string()
}

/// Runs the agent to its end (it must end within 10 s): (status, stdout, stderr).
pub fn run(nodes: &[String], args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for n in nodes {
        cmd.args(["--node", n]);
    }
    let mut child = cmd
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut status = None;
    wait_until(Duration::from_secs(10), || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    if status.is_none() {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(status.is_some(), "did not end within 10 s: {args:?}\n{stderr}");
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

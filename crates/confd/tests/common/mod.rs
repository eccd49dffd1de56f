//! Shared helpers for the binary-level tests: a temp-dir sandbox holding a confdir, a way to
//! run the real `confd` binary with a clean environment and a bounded wait, and a guard that
//! kills and reaps a long-running confd even when the test fails.
//!
//! Every run gets `-config-file <sandbox>/no-such-confd.toml` unless the test asks otherwise
//! (so no run ever reads /etc/confd/confd.toml), and an environment holding only `PATH` plus
//! what the test sets (so nothing from the caller's environment leaks into the env backend).
#![allow(dead_code)]

pub mod cases;
pub mod etcd;

use std::ffi::OsStr;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The binary under test.
pub const CONFD: &str = env!("CARGO_BIN_EXE_confd");

/// How long a `-onetime` run may take before the test gives up (it normally takes
/// milliseconds).
pub const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long to wait for something a daemon should do "within a few seconds".
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(10);

/// A temporary directory holding a confdir (`confdir/conf.d`, `confdir/templates`), output
/// files, data files and the captured output of each run. Removed on drop.
pub struct Sandbox {
    dir: TempDir,
    runs: AtomicUsize,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    /// A sandbox with an empty `confdir/conf.d` and `confdir/templates`.
    pub fn new() -> Sandbox {
        let dir = tempfile::Builder::new().prefix("confd-it-").tempdir().expect("create temp dir");
        let sandbox = Sandbox { dir, runs: AtomicUsize::new(0) };
        fs::create_dir_all(sandbox.conf_d()).unwrap();
        fs::create_dir_all(sandbox.confdir().join("templates")).unwrap();
        fs::create_dir_all(sandbox.path("out")).unwrap();
        sandbox
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `<sandbox>/<rel>`.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `<sandbox>/<rel>` as a string (for command lines and TOML).
    pub fn p(&self, rel: &str) -> String {
        self.path(rel).to_str().expect("utf-8 temp path").to_string()
    }

    pub fn confdir(&self) -> PathBuf {
        self.path("confdir")
    }

    pub fn conf_d(&self) -> PathBuf {
        self.path("confdir/conf.d")
    }

    /// Writes `<sandbox>/<rel>`, creating parent directories.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&path, contents).unwrap();
        path
    }

    /// Writes `confdir/conf.d/<name>`.
    pub fn resource(&self, name: &str, toml: &str) -> PathBuf {
        self.write(&format!("confdir/conf.d/{name}"), toml)
    }

    /// Writes `confdir/templates/<name>`.
    pub fn template(&self, name: &str, text: &str) -> PathBuf {
        self.write(&format!("confdir/templates/{name}"), text)
    }

    /// Reads `<sandbox>/<rel>` as text; panics if it is missing.
    pub fn read(&self, rel: &str) -> String {
        let path = self.path(rel);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }

    /// Reads `<sandbox>/<rel>`, `None` if it does not exist.
    pub fn try_read(&self, rel: &str) -> Option<String> {
        fs::read_to_string(self.path(rel)).ok()
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.path(rel).exists()
    }

    /// A config-file path that does not exist (so confd's default /etc/confd/confd.toml is
    /// never read).
    pub fn no_config(&self) -> String {
        self.p("no-such-confd.toml")
    }

    /// A `confd` command with a clean environment (only PATH), run in the sandbox, with
    /// `-config-file <nonexistent>` first and then `args`.
    pub fn confd<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = self.bare_confd();
        cmd.arg("-config-file").arg(self.no_config());
        cmd.args(args);
        cmd
    }

    /// A `confd` command with a clean environment (only PATH), run in the sandbox, with no
    /// arguments (for the tests about `-config-file` itself and argument parsing).
    pub fn bare_confd(&self) -> Command {
        let mut cmd = Command::new(CONFD);
        cmd.env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        cmd.current_dir(self.root()).stdin(Stdio::null());
        cmd
    }

    /// Starts `cmd` with stdout and stderr captured to files in the sandbox.
    pub fn spawn(&self, mut cmd: Command) -> Daemon {
        let n = self.runs.fetch_add(1, Ordering::SeqCst);
        let stdout = self.path(&format!("run-{n}.stdout"));
        let stderr = self.path(&format!("run-{n}.stderr"));
        cmd.stdout(File::create(&stdout).unwrap()).stderr(File::create(&stderr).unwrap());
        let child = cmd.spawn().expect("start confd");
        Daemon { child: Some(child), stdout, stderr, status: None }
    }

    /// Runs `cmd` to completion (at most [`RUN_TIMEOUT`], then it is killed and the test
    /// fails).
    pub fn run(&self, cmd: Command) -> Finished {
        let started = Instant::now();
        let mut daemon = self.spawn(cmd);
        let status = daemon.wait_exit(RUN_TIMEOUT).unwrap_or_else(|| {
            panic!("confd did not exit within {RUN_TIMEOUT:?}; stderr:\n{}", daemon.stderr())
        });
        Finished {
            status,
            stdout: daemon.stdout(),
            stderr: daemon.stderr(),
            elapsed: started.elapsed(),
        }
    }

    /// `run(confd(args))`.
    pub fn run_confd<S: AsRef<OsStr>>(&self, args: &[S]) -> Finished {
        self.run(self.confd(args))
    }
}

/// A finished run.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Finished {
    /// The exit code; panics if confd died from a signal.
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or_else(|| panic!("confd died from a signal: {self:?}"))
    }

    /// Asserts the exit code, showing stderr on failure.
    pub fn assert_code(&self, want: i32) -> &Self {
        assert_eq!(self.code(), want, "exit code; stderr:\n{}", self.stderr);
        self
    }

    /// The messages of the log lines at `level` (the text after `: LEVEL `).
    pub fn messages(&self, level: &str) -> Vec<String> {
        messages(&self.stderr, level)
    }

    /// Asserts that some log line at `level` contains every one of `parts`; returns it.
    pub fn assert_logged(&self, level: &str, parts: &[&str]) -> String {
        assert_logged(&self.stderr, level, parts)
    }
}

/// The messages of the log lines at `level` in confd's line format
/// (`<time> <host> <argv0>[<pid>]: <LEVEL> <message>`).
pub fn messages(stderr: &str, level: &str) -> Vec<String> {
    let marker = format!("]: {level} ");
    stderr
        .lines()
        .filter_map(|line| line.find(&marker).map(|i| line[i + marker.len()..].to_string()))
        .collect()
}

/// Asserts that some log line at `level` contains every one of `parts`; returns it.
pub fn assert_logged(stderr: &str, level: &str, parts: &[&str]) -> String {
    messages(stderr, level)
        .into_iter()
        .find(|m| parts.iter().all(|p| m.contains(p)))
        .unwrap_or_else(|| panic!("no {level} line containing all of {parts:?}; stderr:\n{stderr}"))
}

/// A running confd; on drop it is killed (SIGKILL) and reaped, so no test leaves a process
/// behind even when an assertion fails.
pub struct Daemon {
    child: Option<Child>,
    stdout: PathBuf,
    stderr: PathBuf,
    status: Option<ExitStatus>,
}

impl Daemon {
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("child").id()
    }

    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn stdout(&self) -> String {
        fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// Sends `sig` (a name `kill` understands: `TERM`, `HUP`, `INT`) to the process.
    pub fn signal(&self, sig: &str) {
        assert!(self.status.is_none(), "confd already exited: {:?}", self.status);
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -{sig} {} failed", self.pid());
    }

    /// The exit status if the process has exited, without waiting.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.as_mut().expect("child").try_wait().expect("try_wait");
        }
        self.status
    }

    /// Waits up to `timeout` for the process to exit; `None` if it is still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let mut status = None;
        wait_until(timeout, || {
            status = self.try_status();
            status.is_some()
        });
        status
    }

    /// Waits up to [`EVENT_TIMEOUT`] until stderr contains `text`; panics otherwise.
    pub fn wait_for_log(&mut self, text: &str) {
        let found = wait_until(EVENT_TIMEOUT, || self.stderr().contains(text));
        assert!(
            found,
            "confd did not log {text:?} within {EVENT_TIMEOUT:?} (exited: {:?}); stderr:\n{}",
            self.try_status(),
            self.stderr()
        );
    }

    /// Asserts the process is still running.
    pub fn assert_running(&mut self) {
        assert_eq!(self.try_status(), None, "confd exited; stderr:\n{}", self.stderr());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `cond` every 20 ms until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Replaces `path` atomically with `contents` (write a sibling, then rename over it), as an
/// editor or a config-management tool does.
pub fn replace_by_rename(path: &Path, contents: &str) {
    let tmp = path.with_extension("tmp-new");
    fs::write(&tmp, contents).unwrap();
    fs::rename(&tmp, path).unwrap();
}

/// The permission bits of `path`.
pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Names in `dir` (sorted).
pub fn list_dir(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

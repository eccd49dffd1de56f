//! Real nginx (Debian's `nginx`), each with a prefix directory of its own: `nginx -p PREFIX
//! -e logs/error.log -c conf/nginx.conf -g 'daemon off;'`, in its own process group, so that
//! dropping the guard kills the master and its workers together and nothing of the system's
//! nginx (`/etc/nginx`, `/run/nginx.pid`) is touched.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::util::{file_tail, install_hint, run_bounded, wait_until};

pub const NGINX: &str = "/usr/sbin/nginx";

/// A prefix directory for an nginx: `conf/` and `logs/` made, removed when dropped (after the
/// nginx that runs in it, if any).
pub struct NginxPrefix {
    dir: tempfile::TempDir,
}

impl NginxPrefix {
    pub fn new() -> NginxPrefix {
        let dir = tempfile::tempdir().expect("testkit: temp dir for nginx");
        for sub in ["conf", "logs"] {
            std::fs::create_dir(dir.path().join(sub)).expect("testkit: nginx prefix dirs");
        }
        // Workers run as nobody when the tests run as root: they must be able to enter it.
        let _ = std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        );
        NginxPrefix { dir }
    }

    /// The prefix, with the trailing `/` nginx's `-p` wants.
    pub fn path(&self) -> PathBuf {
        let mut p = self.dir.path().as_os_str().to_owned();
        p.push("/");
        PathBuf::from(p)
    }

    /// `PREFIX/conf/nginx.conf`.
    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("conf/nginx.conf")
    }

    /// `nginx -t` of `conf` (a path, or relative to the prefix): `Err` holds nginx's words.
    pub fn test(&self, conf: &Path) -> Result<(), String> {
        let out = run_bounded(
            Command::new(NGINX)
                .args(["-t", "-q", "-e", "logs/error.log", "-p"])
                .arg(self.path())
                .arg("-c")
                .arg(conf),
            Duration::from_secs(20),
        );
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }

    /// Starts nginx on `conf/nginx.conf`, and waits until it accepts connections on
    /// `127.0.0.1:port`.
    pub fn start(&self, port: u16) -> Nginx {
        let mut cmd = Command::new(NGINX);
        cmd.args(["-e", "logs/error.log", "-c", "conf/nginx.conf", "-g", "daemon off;", "-p"])
            .arg(self.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("testkit: cannot start {NGINX}: {e}{}", install_hint(&e)));
        let mut nginx = Nginx { child, error_log: self.dir.path().join("logs/error.log") };
        // The port may answer because another process took it: nginx then logs a failed
        // bind (and retries for a while before it gives up).
        let bind_failed = |n: &Nginx| n.error_log_tail(50).contains("bind()");
        let up = wait_until(Duration::from_secs(10), || {
            bind_failed(&nginx)
                || !nginx.running()
                || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(
            up && nginx.running() && !bind_failed(&nginx),
            "testkit: nginx did not come up on 127.0.0.1:{port}:\n{}",
            nginx.error_log_tail(20)
        );
        nginx
    }
}

impl Default for NginxPrefix {
    fn default() -> Self {
        Self::new()
    }
}

/// A running nginx master (and its workers); killed with its process group when dropped.
pub struct Nginx {
    child: Child,
    error_log: PathBuf,
}

impl Nginx {
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn error_log_tail(&self, n: usize) -> String {
        file_tail(&self.error_log, n)
    }

    /// The master's worker processes (and cache helpers, if any), by pid, sorted.
    pub fn workers(&self) -> Vec<u32> {
        let pid = self.child.id();
        let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"));
        let mut pids: Vec<u32> = children
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        pids.sort_unstable();
        pids
    }

    /// Stops nginx gracefully (SIGQUIT: workers finish their requests, the unix sockets it
    /// listens on are removed), killing it if it has not exited within 10 s.
    pub fn stop(mut self) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::QUIT);
        }
        wait_until(Duration::from_secs(10), || !self.running());
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Some(pgid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! No value of any flag makes confd-register panic, in either mode, against a real etcd.

use std::fs::File;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use testkit::EtcdCluster;

const BIN: &str = env!("CARGO_BIN_EXE_confd-register");

/// Values at and beyond the edges of every type a flag can have.
const EXTREME_VALUES: &[&str] = &[
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "-1",
    "0",
    "1e309",
    "1e300s",
    "NaN",
    "",
    "99999999999999999h",
    "0.0000000001ms",
    "\u{7f}\u{fffd}",
];

/// The long flags `--help` lists for `mode_args` (`[]` or `["docker"]`).
fn flags(mode_args: &[&str]) -> Vec<String> {
    let out = Command::new(BIN).args(mode_args).arg("--help").output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix("--"))
        .map(|l| l.split(' ').next().unwrap_or(l).to_string())
        .filter(|f| f != "help" && f != "version")
        .collect()
}

struct Run {
    child: Child,
    log: std::path::PathBuf,
    arg: String,
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sweep(etcd: &EtcdCluster, base: &[&str], dir: &std::path::Path) -> Vec<String> {
    let mode: Vec<&str> = base.iter().copied().take_while(|a| *a == "docker").collect();
    let flags = flags(&mode);
    assert!(flags.len() > 5, "flags in --help: {flags:?}");
    let mut panics = Vec::new();
    for flag in flags {
        let mut runs: Vec<Run> = EXTREME_VALUES
            .iter()
            .enumerate()
            .map(|(i, value)| {
                let log = dir.join(format!("{flag}-{i}.stderr"));
                let mut cmd = Command::new(BIN);
                cmd.args(base).args(["--node", &etcd.endpoints()[0]]);
                let arg = format!("--{flag}={value}");
                cmd.arg(&arg).stdin(Stdio::null()).stdout(Stdio::null());
                let child = cmd.stderr(File::create(&log).unwrap()).spawn().unwrap();
                Run { child, log, arg }
            })
            .collect();
        // A panic shows within moments of the start; runs still going after that are fine.
        let window_ends = Instant::now() + Duration::from_millis(400);
        for run in &mut runs {
            let mut status = None;
            testkit::wait_until(window_ends.saturating_duration_since(Instant::now()), || {
                status = run.child.try_wait().unwrap();
                status.is_some()
            });
            let stderr = std::fs::read_to_string(&run.log).unwrap_or_default();
            if status.is_some_and(|s| s.code() == Some(101)) || stderr.contains("panicked") {
                panics.push(format!("{:?} {}: {status:?}\n{stderr}", base, run.arg));
            }
        }
    }
    panics
}

#[test]
fn no_flag_value_panics() {
    let etcd = EtcdCluster::start(1);
    let dir = tempfile::tempdir().unwrap();
    let agent = [
        "--service",
        "web",
        "--addr",
        "127.0.0.1:9",
        "--check-cmd",
        "true",
        "--interval",
        "50ms",
        "--rise",
        "1",
        "--ttl",
        "5",
    ];
    let docker =
        ["docker", "--docker-host", "unix:///nonexistent/docker.sock", "--node-name", "h1"];
    let mut panics = sweep(&etcd, &agent, dir.path());
    panics.extend(sweep(&etcd, &docker, dir.path()));
    assert!(panics.is_empty(), "{} panics:\n{}", panics.len(), panics.join("\n"));
}

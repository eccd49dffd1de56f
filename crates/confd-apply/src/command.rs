//! Running `check_cmd` and `reload_cmd`: `/bin/sh -c CMD` with combined output and a timeout
//! after which the command's whole process group is killed, so a hung command cannot wedge
//! the daemon (confd waits forever).

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// A stop request shared between the signal handler and running commands: once cancelled, a
/// running command's process group is killed and nothing more is applied.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What a successful command printed (stdout and stderr interleaved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutput {
    pub output: String,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    #[error("cannot run /bin/sh: {0}")]
    Spawn(std::io::Error),
    /// Go's wording (`exit status 1`, `signal: killed`), as confd reports it.
    #[error("{status}")]
    Failed { status: StatusText, output: String },
    #[error("timed out after {after:?} and was killed")]
    TimedOut { after: Duration, output: String },
    #[error("interrupted: confd is stopping")]
    Cancelled { output: String },
}

impl CommandError {
    /// The command's combined output, if it ran.
    pub fn output(&self) -> &str {
        match self {
            CommandError::Spawn(_) => "",
            CommandError::Failed { output, .. }
            | CommandError::TimedOut { output, .. }
            | CommandError::Cancelled { output } => output,
        }
    }
}

/// An exit status worded as Go's `os/exec` words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusText(String);

impl std::fmt::Display for StatusText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn status_text(status: ExitStatus) -> StatusText {
    StatusText(match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("signal: {}", signal_name(sig)),
        _ => "unknown exit status".to_string(),
    })
}

fn signal_name(sig: i32) -> String {
    match sig {
        1 => "hangup".into(),
        2 => "interrupt".into(),
        9 => "killed".into(),
        15 => "terminated".into(),
        other => format!("signal {other}"),
    }
}

/// How long to keep reading output after the command exited (a background child it started
/// may hold the pipe open).
const OUTPUT_GRACE: Duration = Duration::from_millis(500);

/// Runs `/bin/sh -c cmd`, inheriting the environment and working directory. Fails on a
/// non-zero exit, when `timeout` passes or when `cancel` is set (then the process group is
/// killed).
pub fn run_command(
    cmd: &str,
    timeout: Duration,
    cancel: Option<&Cancel>,
) -> Result<CommandOutput, CommandError> {
    let (reader, writer) = std::io::pipe().map_err(CommandError::Spawn)?;
    let writer2 = writer.try_clone().map_err(CommandError::Spawn)?;
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer2)
        .process_group(0)
        .spawn()
        .map_err(CommandError::Spawn)?;
    let output_rx = spawn_reader(reader);
    let started = Instant::now();
    let status = wait_with_timeout(&mut child, timeout, cancel);
    let grace = if matches!(status, Waited::Exited(_)) { OUTPUT_GRACE } else { Duration::ZERO };
    let output = collect_output(&output_rx, grace);
    match status {
        Waited::Exited(s) if s.success() => {
            Ok(CommandOutput { output: collect_rest(output, &output_rx) })
        }
        Waited::Exited(s) => Err(CommandError::Failed {
            status: status_text(s),
            output: collect_rest(output, &output_rx),
        }),
        Waited::TimedOut | Waited::Cancelled => {
            kill_group(child.id());
            let _ = child.wait();
            let output = collect_rest(output, &output_rx);
            if matches!(status, Waited::Cancelled) {
                return Err(CommandError::Cancelled { output });
            }
            Err(CommandError::TimedOut { after: started.elapsed(), output })
        }
    }
}

fn spawn_reader(mut reader: std::io::PipeReader) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    rx
}

enum Waited {
    Exited(ExitStatus),
    TimedOut,
    Cancelled,
}

fn wait_with_timeout(
    child: &mut std::process::Child,
    timeout: Duration,
    cancel: Option<&Cancel>,
) -> Waited {
    let deadline = Instant::now().checked_add(timeout);
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Waited::Exited(status),
            Ok(None) if cancel.is_some_and(Cancel::is_cancelled) => return Waited::Cancelled,
            Ok(None) if deadline.is_some_and(|d| Instant::now() >= d) => return Waited::TimedOut,
            Ok(None) => {
                let left = deadline.map_or(pause, |d| d.saturating_duration_since(Instant::now()));
                std::thread::sleep(pause.min(left));
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(_) => return Waited::TimedOut,
        }
    }
}

/// Gathers output until the pipe closes or `grace` passes.
fn collect_output(rx: &mpsc::Receiver<Vec<u8>>, grace: Duration) -> Vec<u8> {
    let deadline = Instant::now() + grace;
    let mut out = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(chunk) => out.extend_from_slice(&chunk),
            Err(_) => return out,
        }
    }
}

fn collect_rest(mut out: Vec<u8>, rx: &mpsc::Receiver<Vec<u8>>) -> String {
    while let Ok(chunk) = rx.try_recv() {
        out.extend_from_slice(&chunk);
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn kill_group(pid: u32) {
    if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

//! The three modes: `-onetime`, interval (the default) and `-watch`. Interval and watch modes
//! end cleanly on SIGTERM/SIGINT (exit 0, as confd) and re-read the template resources on
//! SIGHUP (confd would die on SIGHUP and needs a restart to see new resources).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant, SystemTime};

use confd_core::resource::{TemplateResource, WaitSpec};

use crate::backend::{Backend, SnapshotValues};
use crate::log;
use crate::process::{run_pass, Failure, PassReport, Settings};
use crate::resources::{self, Loaded};
use crate::watch;

/// Where the resources come from (re-read on every interval pass and on SIGHUP).
pub struct Source {
    pub confdir: PathBuf,
    pub prefix: String,
    /// When this process started: stage files older than this are leftovers of a confd that
    /// was killed, removed whenever the resources are loaded. `None` with `-keep-stage-file`.
    pub stale_stage_files_before: Option<SystemTime>,
}

impl Source {
    /// Loads the resources and removes the stage files earlier runs left beside their dests.
    pub(crate) fn load(&self) -> Result<Vec<TemplateResource>, String> {
        let resources = match resources::load(&self.confdir, &self.prefix)? {
            Loaded::Resources(r) => r,
            Loaded::Nothing => Vec::new(),
        };
        if let Some(started) = self.stale_stage_files_before {
            for res in &resources {
                remove_stale_stage_files(res, started);
            }
        }
        Ok(resources)
    }
}

fn remove_stale_stage_files(res: &TemplateResource, started: SystemTime) {
    for stale in confd_apply::remove_stale_stage_files(&res.dest, started) {
        match stale.removed {
            Ok(()) => {
                log::info!("Removed {}, a stage file an earlier run left", stale.path.display())
            }
            Err(e) => log::warning!(
                "cannot remove {}, a stage file an earlier run left: {e}",
                stale.path.display()
            ),
        }
    }
}

/// Something the daemon loop reacts to.
#[derive(Debug)]
pub enum Event {
    Stop(&'static str),
    Reload,
    Changed,
    /// An event of etcd watch `.1` of generation `.0` (older generations are stale).
    Etcd(u64, usize, confd_etcd::WatchEvent),
}

/// One pass over `resources`. With etcd, every resource's keys are read once, at one
/// revision, so all resources render from one consistent state. If that shared read fails (for
/// instance because the user may not read one resource's prefix), each resource reads its own
/// keys instead, so one refused or failing resource does not stop the others (as in confd,
/// where every resource reads for itself).
fn pass(resources: &[TemplateResource], backend: &Backend, settings: &Settings) -> PassReport {
    let keys: Vec<String> = resources.iter().flat_map(TemplateResource::prefixed_keys).collect();
    match backend.prefetch(&keys) {
        None => run_pass(resources, backend, settings),
        Some(Ok(kvs)) => run_pass(resources, &SnapshotValues(&kvs), settings),
        Some(Err(e)) if resources.len() > 1 => {
            log::debug!("the shared read failed ({e}); reading each resource's keys separately");
            run_pass(resources, backend, settings)
        }
        Some(Err(e)) => {
            let failure = Failure {
                resource: resources[0].path.display().to_string(),
                message: e.to_string(),
            };
            log::error!("{failure}");
            PassReport { failures: vec![failure], updated: 0 }
        }
    }
}

/// The batching window of a watch: `-wait` (or `wait` in confd.toml), lengthened to the longest
/// `wait` a template resource sets, since one pass serves every resource of a batch.
pub(crate) fn effective_wait(resources: &[TemplateResource], global: WaitSpec) -> WaitSpec {
    resources
        .iter()
        .filter_map(|r| r.wait)
        .fold(global, |acc, w| WaitSpec { quiet: acc.quiet.max(w.quiet), max: acc.max.max(w.max) })
}

pub(crate) fn fatal(msg: &str) -> ExitCode {
    log::log(log::Level::Fatal, msg);
    ExitCode::FAILURE
}

/// `-onetime`: one pass, exit 1 if any resource failed (after logging the last failure again
/// as FATAL, as confd does), 0 otherwise. SIGTERM/SIGINT stop the pass (a running command is
/// killed, nothing more is applied) and exit 1.
pub fn onetime(source: &Source, backend: &Backend, settings: &Settings) -> ExitCode {
    let (tx, rx) = mpsc::channel();
    if let Err(e) = spawn_signal_thread(tx, settings.cancel.clone()) {
        return fatal(&e);
    }
    let resources = match source.load() {
        Ok(r) => r,
        Err(e) => return fatal(&e),
    };
    let report = pass(&resources, backend, settings);
    if let Ok(Event::Stop(sig)) = rx.try_recv() {
        return fatal(&format!("Captured {sig} before all resources were processed. Exiting..."));
    }
    match report.failures.last() {
        Some(last) => fatal(&last.to_string()),
        None => ExitCode::SUCCESS,
    }
}

/// Interval mode: a pass now, then one every `interval`, re-reading the resources each time.
pub fn interval(
    source: &Source,
    backend: &Backend,
    settings: &Settings,
    every: Duration,
) -> ExitCode {
    let (tx, rx) = mpsc::channel();
    if let Err(e) = spawn_signal_thread(tx, settings.cancel.clone()) {
        return fatal(&e);
    }
    loop {
        let resources = match source.load() {
            Ok(r) => r,
            Err(e) => return fatal(&e),
        };
        pass(&resources, backend, settings);
        // An interval too long for the clock to express means: never again by itself.
        let deadline = Instant::now().checked_add(every);
        loop {
            let event = match deadline {
                Some(d) => rx.recv_timeout(d.saturating_duration_since(Instant::now())),
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match event {
                Ok(Event::Stop(sig)) => return stopped(sig),
                Ok(Event::Reload) | Err(RecvTimeoutError::Timeout) => break,
                Ok(Event::Changed | Event::Etcd(..)) => {}
                Err(RecvTimeoutError::Disconnected) => return ExitCode::SUCCESS,
            }
        }
    }
}

pub(crate) fn stopped(sig: &str) -> ExitCode {
    log::info!("Captured {sig}. Exiting...");
    ExitCode::SUCCESS
}

/// `-watch`: a pass now, then one after each batch of changes to the backend's data. The env
/// backend never changes, so it renders once and waits (confd renders nothing).
pub fn watch(source: &Source, backend: &Backend, settings: &Settings, wait: WaitSpec) -> ExitCode {
    if let Backend::Etcd(etcd) = backend {
        return crate::watch_etcd::run(source, etcd, settings, wait);
    }
    let (tx, rx) = mpsc::channel();
    if let Err(e) = spawn_signal_thread(tx.clone(), settings.cancel.clone()) {
        return fatal(&e);
    }
    if let Some(paths) = backend.watch_source() {
        if let Err(e) = watch::spawn(paths, tx) {
            return fatal(&format!("cannot watch the backend's files: {e}"));
        }
    }
    let mut resources = match source.load() {
        Ok(r) => r,
        Err(e) => return fatal(&e),
    };
    run_pass(&resources, backend, settings);
    loop {
        match next_batch(&rx, effective_wait(&resources, wait)) {
            Batch::Stop(sig) => return stopped(sig),
            Batch::Reload => match source.load() {
                Ok(r) => {
                    log::info!("Reloaded {} template resources", r.len());
                    resources = r;
                }
                Err(e) => {
                    log::error!("SIGHUP: keeping the current template resources: {e}");
                    continue;
                }
            },
            Batch::Changed => {}
            Batch::Closed => return ExitCode::SUCCESS,
        }
        run_pass(&resources, backend, settings);
    }
}

enum Batch {
    Stop(&'static str),
    Reload,
    Changed,
    Closed,
}

/// Waits for the first change, then gathers more until the data has been quiet for
/// `wait.quiet` or `wait.max` has passed since the first one (trailing edge). A stop or reload
/// request ends the wait at once.
fn next_batch(rx: &Receiver<Event>, wait: WaitSpec) -> Batch {
    match rx.recv() {
        Ok(Event::Stop(sig)) => return Batch::Stop(sig),
        Ok(Event::Reload) => return Batch::Reload,
        Ok(Event::Changed | Event::Etcd(..)) => {}
        Err(_) => return Batch::Closed,
    }
    let first = Instant::now();
    loop {
        let until_max = first
            .checked_add(wait.max)
            .map_or(Duration::MAX, |max| max.saturating_duration_since(Instant::now()));
        let timeout = wait.quiet.min(until_max);
        if timeout.is_zero() {
            return Batch::Changed;
        }
        match rx.recv_timeout(timeout) {
            Ok(Event::Changed | Event::Etcd(..)) => continue,
            Ok(Event::Stop(sig)) => return Batch::Stop(sig),
            Ok(Event::Reload) => return Batch::Reload,
            Err(_) => return Batch::Changed,
        }
    }
}

/// Turns signals into events. SIGTERM/SIGINT also cancel at once whatever is running (a check
/// or reload command is killed, no further file is replaced), so the daemon stops promptly
/// even in the middle of a pass.
pub(crate) fn spawn_signal_thread(
    tx: Sender<Event>,
    cancel: confd_apply::Cancel,
) -> Result<(), String> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                let event = match sig {
                    SIGTERM => Event::Stop("terminated"),
                    SIGINT => Event::Stop("interrupt"),
                    _ => Event::Reload,
                };
                if matches!(event, Event::Stop(_)) {
                    cancel.cancel();
                }
                if tx.send(event).is_err() {
                    break;
                }
            }
        })
        .map(|_| ())
        .map_err(|e| format!("cannot start the signal thread: {e}"))
}

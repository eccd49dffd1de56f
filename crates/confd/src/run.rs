//! The three modes: `-onetime`, interval (the default) and `-watch`, each a thin loop that
//! feeds the reconciler (`crate::driver`) and lets it decide. Interval and watch modes end
//! cleanly on SIGTERM/SIGINT (exit 0, as confd), re-read the template resources on SIGHUP
//! (confd would die on SIGHUP and needs a restart to see new resources) and release the
//! fail-static holds on SIGUSR1.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant, SystemTime};

use confd_core::resource::{TemplateResource, WaitSpec};

use crate::backend::{store_from_values, Backend, ResourceStore, SnapshotValues, Values};
use crate::driver::{Driver, Report};
use crate::log;
use crate::process::Settings;
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
    pub(crate) fn load(&self) -> Result<Vec<TemplateResource>, resources::LoadError> {
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
    /// SIGHUP: re-read the template resources.
    Reload,
    /// SIGUSR1: release the fail-static holds.
    Release,
    Changed,
    /// An event of etcd watch `.1` of generation `.0` (older generations are stale).
    Etcd(u64, usize, confd_etcd::WatchEvent),
    /// A report of a redis, zookeeper or etcd v2 watch.
    Store(confd_backend::notify::Notice),
}

/// Carries out the driver's due work, reading every resource's keys from the backend (see
/// [`SharedRead`]).
pub(crate) fn run_due(driver: &mut Driver, backend: &Backend, settings: &Settings) -> Report {
    let keys: Vec<String> =
        driver.resources().iter().flat_map(TemplateResource::prefixed_keys).collect();
    let read = SharedRead::new(backend, keys, driver.resources().len() > 1);
    let report = driver.run_due(settings, &|_| &read);
    settings.status.set_ready(driver.readiness());
    report
}

/// Where a pass reads each resource's keys, read when the first render asks (not at all when
/// the work due is only a reload). With etcd every resource's keys are read once, at one
/// revision, so all resources render from one consistent state; if that shared read fails
/// (for instance because the user may not read one resource's prefix), each resource reads
/// its own keys instead, so one refused or failing resource does not stop the others (as in
/// confd, where every resource reads for itself). Other backends are read per resource.
struct SharedRead<'a> {
    backend: &'a Backend,
    keys: Vec<String>,
    /// More than one resource: a failed shared read falls back to reading each.
    several: bool,
    read: OnceCell<Option<Result<BTreeMap<String, String>, String>>>,
}

impl<'a> SharedRead<'a> {
    fn new(backend: &'a Backend, keys: Vec<String>, several: bool) -> SharedRead<'a> {
        SharedRead { backend, keys, several, read: OnceCell::new() }
    }
}

impl SharedRead<'_> {
    /// The shared read, made on first use; `None` for a backend read per resource.
    fn shared(&self) -> Option<&Result<BTreeMap<String, String>, String>> {
        self.read
            .get_or_init(|| {
                let read = self.backend.prefetch(&self.keys)?;
                if let (Err(e), true) = (&read, self.several) {
                    log::debug!("the shared read failed ({e}); reading each resource's keys");
                }
                Some(read.map_err(|e| e.to_string()))
            })
            .as_ref()
    }
}

impl Values for SharedRead<'_> {
    fn values(&self, keys: &[String]) -> Result<BTreeMap<String, String>, String> {
        match self.shared() {
            Some(Ok(kvs)) => SnapshotValues(kvs).values(keys),
            Some(Err(e)) if !self.several => Err(e.clone()),
            Some(Err(_)) | None => self.backend.values(keys),
        }
    }

    /// A backend read per resource builds the store its own way.
    fn store(&self, res: &TemplateResource) -> Result<ResourceStore, String> {
        match self.shared() {
            None => self.backend.store(res),
            Some(_) => store_from_values(self, res),
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

/// A daemon loop's start: the sending end of its event channel (for more event sources), the
/// receiving end, and the template resources.
pub(crate) type Started = (Sender<Event>, Receiver<Event>, Vec<TemplateResource>);

/// What every daemon loop does first: the event channel, the signal thread feeding it, and the
/// template resources; a failure is logged as FATAL and is the exit code.
pub(crate) fn start_daemon(source: &Source, settings: &Settings) -> Result<Started, ExitCode> {
    let (tx, rx) = mpsc::channel();
    spawn_signal_thread(tx.clone(), settings.cancel.clone()).map_err(|e| fatal(&e))?;
    let resources = source.load().map_err(fatal)?;
    Ok((tx, rx, resources))
}

pub(crate) fn fatal(msg: impl std::fmt::Display) -> ExitCode {
    log::log(log::Level::Fatal, &msg.to_string());
    ExitCode::FAILURE
}

/// `-onetime`: one pass, exit 1 if any resource failed (after logging the last failure again
/// as FATAL, as confd does), 0 otherwise. A reload that fails puts the previous dest back.
/// SIGTERM/SIGINT stop the pass (a running command is killed, nothing more is applied) and
/// exit 1.
pub fn onetime(source: &Source, backend: &Backend, settings: &Settings) -> ExitCode {
    let (tx, rx) = mpsc::channel();
    if let Err(e) = spawn_signal_thread(tx, settings.cancel.clone()) {
        return fatal(&e);
    }
    let resources = match source.load() {
        Ok(r) => r,
        Err(e) => return fatal(e),
    };
    let mut driver = Driver::once(resources, settings);
    driver.render_all_now();
    let report = run_due(&mut driver, backend, settings);
    settings.until_exit.leave_to_exit();
    if let Ok(Event::Stop(sig)) = rx.try_recv() {
        return fatal(format!("Captured {sig} before all resources were processed. Exiting..."));
    }
    match report.failures.last() {
        Some(last) => fatal(last.to_string()),
        None => ExitCode::SUCCESS,
    }
}

/// The next event, waiting at most until `until` (`None`: for ever).
pub(crate) fn next_event(
    rx: &Receiver<Event>,
    until: Option<Instant>,
    status: &confd_metrics::Status,
) -> Result<Event, RecvTimeoutError> {
    // The loop is alive while it comes here; it comes at least every BEAT_EVERY (a timeout
    // before `until` only makes the caller look for due work, and find none).
    status.beat();
    let beat = Instant::now() + status.beat_every();
    let until = until.map_or(beat, |t| t.min(beat));
    rx.recv_timeout(until.saturating_duration_since(Instant::now()))
}

/// Interval mode: a pass now, then one every `interval`, re-reading the resources each time;
/// retries and deferred reloads run between passes when the reconciler says.
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
    let mut driver: Option<Driver> = None;
    loop {
        let resources = match source.load() {
            Ok(r) => r,
            Err(e) => return fatal(e),
        };
        // The reconciler's state (retries, holds, swaps awaiting a reload) carries over while
        // the resources stay the same.
        let mut current = match driver.take() {
            Some(d) if d.resources() == resources.as_slice() => d,
            Some(d) => d.replace(resources, settings, WaitSpec::DISABLED),
            None => Driver::new(resources, settings, WaitSpec::DISABLED),
        };
        current.render_all_now();
        run_due(&mut current, backend, settings);
        // An interval too long for the clock to express means: never again by itself.
        let next_pass = Instant::now().checked_add(every);
        loop {
            let wakeup = current.next_wakeup();
            let until = [next_pass, wakeup].into_iter().flatten().min();
            match next_event(&rx, until, &settings.status) {
                Ok(Event::Stop(sig)) => return stopped(sig),
                Ok(Event::Reload) => break,
                Ok(Event::Release) => current.release(),
                Ok(Event::Changed | Event::Etcd(..) | Event::Store(_)) => continue,
                Err(RecvTimeoutError::Timeout)
                    if next_pass.is_some_and(|t| Instant::now() >= t) =>
                {
                    break
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return ExitCode::SUCCESS,
            }
            run_due(&mut current, backend, settings);
        }
        driver = Some(current);
    }
}

pub(crate) fn stopped(sig: &str) -> ExitCode {
    let _ = confd_metrics::systemd::notify("STOPPING=1");
    log::info!("Captured {sig}. Exiting...");
    ExitCode::SUCCESS
}

/// `-watch`: a pass now, then one after each batch of changes to the backend's data. The env
/// backend never changes, so it renders once and waits (confd renders nothing).
pub fn watch(source: &Source, backend: &Backend, settings: &Settings, wait: WaitSpec) -> ExitCode {
    if let Backend::Etcd(etcd) = backend {
        return crate::watch_etcd::run(source, etcd, settings, wait);
    }
    if matches!(backend, Backend::EtcdV2(_) | Backend::Redis(_) | Backend::Zookeeper(_)) {
        return crate::watch_store::run(source, backend, settings, wait);
    }
    let (tx, rx) = mpsc::channel();
    if let Err(e) = spawn_signal_thread(tx.clone(), settings.cancel.clone()) {
        return fatal(&e);
    }
    if let Some(paths) = backend.watch_source() {
        if let Err(e) = watch::spawn(paths, tx) {
            return fatal(format!("cannot watch the backend's files: {e}"));
        }
    }
    let resources = match source.load() {
        Ok(r) => r,
        Err(e) => return fatal(e),
    };
    let window = effective_wait(&resources, wait);
    let mut driver = Driver::new(resources, settings, window);
    driver.render_all_now();
    loop {
        run_due(&mut driver, backend, settings);
        match next_event(&rx, driver.next_wakeup(), &settings.status) {
            Ok(Event::Stop(sig)) => return stopped(sig),
            Ok(Event::Reload) => match source.load() {
                Ok(r) => {
                    log::info!("Reloaded {} template resources", r.len());
                    let window = effective_wait(&r, wait);
                    driver = driver.replace(r, settings, window);
                    driver.render_all_now();
                }
                Err(e) => log::error!("SIGHUP: keeping the current template resources: {e}"),
            },
            Ok(Event::Release) => driver.release(),
            Ok(Event::Changed | Event::Etcd(..) | Event::Store(_)) => driver.changed_all(),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return ExitCode::SUCCESS,
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
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP, SIGUSR1])
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                let event = match sig {
                    SIGTERM => Event::Stop("terminated"),
                    SIGINT => Event::Stop("interrupt"),
                    SIGUSR1 => Event::Release,
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

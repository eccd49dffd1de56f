//! `-watch` with the stores whose watch only says "something changed" (redis, zookeeper, the
//! etcd v2 API; see `confd_backend::notify`): each report marks every resource changed, and
//! the reconciler (`crate::driver`) batches by `-wait` and re-reads through the same read as
//! `-onetime`. Nothing is rendered before the watch is armed (its first `Changed`); while the
//! store is unreachable dest stays as it is and the outage is logged once; SIGHUP re-reads the
//! template resources and watches their keys anew.

use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};

use confd_backend::notify::{Notice, WatchStop};
use confd_core::resource::{TemplateResource, WaitSpec};

use crate::backend::Backend;
use crate::driver::Driver;
use crate::log;
use crate::process::Settings;
use crate::run::{
    effective_wait, fatal, next_event, run_due, start_daemon, stopped, Event, Source,
};

pub fn run(source: &Source, backend: &Backend, settings: &Settings, wait: WaitSpec) -> ExitCode {
    let (tx, rx, resources) = match start_daemon(source, settings) {
        Ok(started) => started,
        Err(code) => return code,
    };
    let mut watch = match start(backend, &resources, &tx) {
        Ok(w) => w,
        Err(e) => return fatal(e),
    };
    let window = effective_wait(&resources, wait);
    let mut driver = Driver::new(resources, settings, window);
    let mut state = Listening::default();
    loop {
        run_due(&mut driver, backend, settings);
        if let Some(why) = state.not_ready() {
            settings.status.set_ready(Err(why));
        }
        match next_event(&rx, driver.next_wakeup(), &settings.status) {
            Ok(Event::Stop(sig)) => return stopped(sig),
            Ok(Event::Reload) => match source.load() {
                Ok(r) => {
                    log::info!("Reloaded {} template resources; watching their keys", r.len());
                    drop(watch);
                    watch = match start(backend, &r, &tx) {
                        Ok(w) => w,
                        Err(e) => return fatal(e),
                    };
                    let window = effective_wait(&r, wait);
                    driver = driver.replace(r, settings, window);
                    state.rendered = false;
                }
                Err(e) => log::error!("SIGHUP: keeping the current template resources: {e}"),
            },
            Ok(Event::Release) => driver.release(),
            Ok(Event::Store(Notice::Changed)) if !state.rendered => {
                state.rendered = true;
                driver.render_all_now();
            }
            Ok(Event::Store(Notice::Changed)) => driver.changed_all(),
            Ok(Event::Store(notice)) => {
                state.report(&notice, backend_name(backend));
                settings.metrics.store_up.set(i64::from(state.up == Some(true)));
            }
            Ok(Event::Changed | Event::Etcd(..)) => {}
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return ExitCode::SUCCESS,
        }
    }
}

/// What the loop knows of the watch.
#[derive(Default)]
struct Listening {
    /// As last reported (`None`: nothing yet).
    up: Option<bool>,
    /// The first `Changed` (the watch armed) has rendered every resource.
    rendered: bool,
}

impl Listening {
    /// Logs a change of state: every watch thread may report the same outage; it is said once.
    fn report(&mut self, notice: &Notice, store: &str) {
        match notice {
            Notice::Up { endpoint } => match self.up.replace(true) {
                Some(true) => {}
                Some(false) => log::info!("Watching {store} at {endpoint} again"),
                None => log::info!("Watching {store} at {endpoint}"),
            },
            Notice::Down { error } => {
                if self.up.replace(false) != Some(false) {
                    log::error!("{error}; keeping the current configuration and retrying");
                }
            }
            Notice::Changed => {}
        }
    }

    fn not_ready(&self) -> Option<String> {
        match (self.up, self.rendered) {
            (Some(false), _) => Some("the store is unreachable; serving the last config".into()),
            (_, false) => Some("waiting for the store's watch".into()),
            _ => None,
        }
    }
}

fn backend_name(backend: &Backend) -> &'static str {
    match backend {
        Backend::Redis(_) => "redis",
        Backend::Zookeeper(_) => "zookeeper",
        _ => "etcd (v2 API)",
    }
}

/// Watches every key the resources read; the watch's reports become events of the loop.
fn start(
    backend: &Backend,
    resources: &[TemplateResource],
    tx: &Sender<Event>,
) -> Result<WatchStop, String> {
    let mut keys: Vec<String> =
        resources.iter().flat_map(TemplateResource::prefixed_keys).collect();
    keys.sort();
    keys.dedup();
    let (notice_tx, notice_rx) = mpsc::channel();
    let watch = match backend.watch_store(keys, notice_tx) {
        Some(Ok(w)) => w,
        Some(Err(e)) => return Err(e.to_string()),
        None => return Err("this backend has no change-reporting watch".into()),
    };
    let tx = tx.clone();
    std::thread::Builder::new()
        .name("store-events".into())
        .spawn(move || {
            for notice in notice_rx {
                if tx.send(Event::Store(notice)).is_err() {
                    return;
                }
            }
        })
        .map_err(|e| format!("cannot start the store-events thread: {e}"))?;
    Ok(watch)
}

//! `-watch` with etcd: one watch per distinct set of keys, shared by the resources that read
//! exactly those keys, each with an in-memory model kept current (`confd_etcd`, which resumes
//! after failures and resyncs after compaction), and passes that re-render only the resources
//! whose keys changed, in batches. A watch that fails (say, a prefix the user may not read)
//! holds up only its own resources.
//!
//! - Nothing is rendered before the first complete read (the watch's first `Resync`).
//! - Each watch response is applied to the model as a unit, between passes.
//! - A batch starts with the first change and ends when the keys have been quiet for
//!   `wait.quiet` or `wait.max` after its first change (trailing edge); then every resource
//!   that reads a changed key is rendered once, and each distinct reload command runs once.
//! - While etcd is unreachable the last rendered files stay; the watch retries and this loop
//!   logs the outage once.
//! - SIGHUP re-reads the template resources and restarts the watch (with a fresh full read).

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use confd_core::resource::{TemplateResource, WaitSpec};
use confd_etcd::{Etcd, Health, Update, WatchEvent, WatchHandle};

use crate::backend::{is_under, SnapshotValues};
use crate::log;
use crate::process::{run_pass_with, Settings};
use crate::run::{fatal, spawn_signal_thread, stopped, Event, Source};

type Model = BTreeMap<String, String>;

/// The keys a batch changed, or every resource after the first read / a resync of unknown
/// extent.
enum Dirty {
    Keys(BTreeSet<String>),
    All,
}

/// One watch per distinct set of keys, shared by the resources that read exactly those keys,
/// with its own model: a prefix one resource may not read (or any trouble with one watch)
/// does not hold up the others.
struct Group {
    keys: Vec<String>,
    model: Option<Model>,
    watch: WatchHandle,
}

/// The distinct key sets of `resources`, in order of first appearance.
fn key_sets(resources: &[TemplateResource]) -> Vec<Vec<String>> {
    let mut sets: Vec<Vec<String>> = Vec::new();
    for r in resources {
        let keys = sorted_keys(r);
        if !sets.contains(&keys) {
            sets.push(keys);
        }
    }
    sets
}

fn sorted_keys(r: &TemplateResource) -> Vec<String> {
    let mut keys = r.prefixed_keys();
    keys.sort();
    keys.dedup();
    keys
}

fn start_groups(
    etcd: &Etcd,
    resources: &[TemplateResource],
    tx: &Sender<Event>,
    generation: u64,
) -> Vec<Group> {
    key_sets(resources)
        .into_iter()
        .enumerate()
        .map(|(i, keys)| {
            let watch = start_watch(etcd, keys.clone(), tx, generation, i);
            Group { keys, model: None, watch }
        })
        .collect()
}

fn stop_groups(groups: Vec<Group>) {
    for g in groups {
        g.watch.stop();
    }
}

pub fn run(source: &Source, etcd: &Etcd, settings: &Settings, wait: WaitSpec) -> ExitCode {
    let (tx, rx) = mpsc::channel();
    if let Err(e) = spawn_signal_thread(tx.clone(), settings.cancel.clone()) {
        return fatal(&e);
    }
    let mut resources = match source.load() {
        Ok(r) => r,
        Err(e) => return fatal(&e),
    };
    // Events of a stopped watch may still be in flight; each set of watches has a generation.
    let mut generation = 0;
    let mut groups = start_groups(etcd, &resources, &tx, generation);
    // Every watch reports an outage; it is logged once for all of them.
    let mut outage = false;
    loop {
        let window = crate::run::effective_wait(&resources, wait);
        match next_batch(&rx, window, &mut groups, generation, &mut outage) {
            Batch::Stop(sig) => {
                stop_groups(groups);
                return stopped(sig);
            }
            Batch::Reload => match source.load() {
                Ok(r) => {
                    log::info!("Reloaded {} template resources; re-reading etcd", r.len());
                    resources = r;
                    stop_groups(std::mem::take(&mut groups));
                    generation += 1;
                    groups = start_groups(etcd, &resources, &tx, generation);
                }
                Err(e) => log::error!("SIGHUP: keeping the current template resources: {e}"),
            },
            Batch::Dirty(dirty) => render_dirty(&resources, &groups, &dirty, settings),
            Batch::Closed => return ExitCode::SUCCESS,
        }
    }
}

/// One pass over the resources that read a changed key, each from its group's model.
fn render_dirty(
    resources: &[TemplateResource],
    groups: &[Group],
    dirty: &[Option<Dirty>],
    settings: &Settings,
) {
    let views: Vec<Option<SnapshotValues<'_>>> =
        groups.iter().map(|g| g.model.as_ref().map(SnapshotValues)).collect();
    let mut selected: Vec<(&TemplateResource, &dyn crate::backend::Values)> = Vec::new();
    for res in resources {
        let keys = sorted_keys(res);
        let Some(g) = groups.iter().position(|g| g.keys == keys) else { continue };
        let (Some(view), Some(d)) = (views[g].as_ref(), dirty[g].as_ref()) else { continue };
        if reads_changed(res, d) {
            selected.push((res, view));
        }
    }
    if !selected.is_empty() {
        log::debug!("{} of {} resources read changed keys", selected.len(), resources.len());
        run_pass_with(selected, settings);
    }
}

/// Watches `keys` from scratch (the watch reads first); its events are tagged with the
/// generation and group.
fn start_watch(
    etcd: &Etcd,
    keys: Vec<String>,
    tx: &Sender<Event>,
    generation: u64,
    group: usize,
) -> WatchHandle {
    let (etcd_tx, etcd_rx) = mpsc::channel();
    let handle = etcd.watch(keys, None, etcd_tx);
    let tx = tx.clone();
    let _ = std::thread::Builder::new().name("etcd-events".into()).spawn(move || {
        for ev in etcd_rx {
            if tx.send(Event::Etcd(generation, group, ev)).is_err() {
                return;
            }
        }
    });
    handle
}

fn reads_changed(res: &TemplateResource, dirty: &Dirty) -> bool {
    match dirty {
        Dirty::All => true,
        Dirty::Keys(keys) => {
            res.prefixed_keys().iter().any(|prefix| keys.iter().any(|k| is_under(k, prefix)))
        }
    }
}

enum Batch {
    Stop(&'static str),
    Reload,
    /// What changed, per group (`None`: nothing in that group).
    Dirty(Vec<Option<Dirty>>),
    Closed,
}

/// Applies etcd events to the groups' models as they come; returns once a batch of changes is
/// complete (see the module docs), or at once for a stop or reload request. The batch says,
/// per group, what changed.
fn next_batch(
    rx: &Receiver<Event>,
    wait: WaitSpec,
    groups: &mut [Group],
    generation: u64,
    outage: &mut bool,
) -> Batch {
    let mut dirty: Vec<Option<Dirty>> = groups.iter().map(|_| None).collect();
    let mut first: Option<Instant> = None;
    loop {
        let event = match first {
            None => match rx.recv() {
                Ok(ev) => ev,
                Err(_) => return Batch::Closed,
            },
            Some(start) => {
                let until_max = start
                    .checked_add(wait.max)
                    .map_or(Duration::MAX, |max| max.saturating_duration_since(Instant::now()));
                match recv_within(rx, wait.quiet.min(until_max)) {
                    Ok(ev) => ev,
                    Err(mpsc::RecvTimeoutError::Timeout) => return Batch::Dirty(dirty),
                    Err(mpsc::RecvTimeoutError::Disconnected) => return Batch::Closed,
                }
            }
        };
        match event {
            Event::Stop(sig) => return Batch::Stop(sig),
            Event::Reload => return Batch::Reload,
            Event::Changed => {}
            Event::Etcd(g, _, _) if g != generation => {}
            Event::Etcd(_, _, WatchEvent::Status(health)) => log_health(&health, outage),
            Event::Etcd(_, i, WatchEvent::Update(update)) => {
                let Some(group) = groups.get_mut(i) else { continue };
                let changed = apply_update(&mut group.model, update);
                if changed.as_ref().is_none_or(|c| !c.is_empty()) {
                    merge(&mut dirty[i], changed);
                    first.get_or_insert_with(Instant::now);
                }
            }
        }
    }
}

/// The next event within `timeout`. With no time left it still takes what has already
/// arrived (what came in while the last pass ran), so a burst is caught up with in one pass,
/// as confd catches up to the latest revision.
fn recv_within(
    rx: &Receiver<Event>,
    timeout: std::time::Duration,
) -> Result<Event, mpsc::RecvTimeoutError> {
    if !timeout.is_zero() {
        return rx.recv_timeout(timeout);
    }
    rx.try_recv().map_err(|e| match e {
        mpsc::TryRecvError::Empty => mpsc::RecvTimeoutError::Timeout,
        mpsc::TryRecvError::Disconnected => mpsc::RecvTimeoutError::Disconnected,
    })
}

/// Applies one update to the model; returns the keys it changed (`None` = everything: the
/// first read).
fn apply_update(model: &mut Option<Model>, update: Update) -> Option<BTreeSet<String>> {
    match update {
        Update::Changes { changes, .. } => {
            // Changes only follow the first read; before it there is nothing to update.
            let Some(kvs) = model.as_mut() else { return Some(BTreeSet::new()) };
            let mut changed = BTreeSet::new();
            for (key, value) in changes {
                let differs = match value {
                    Some(v) => kvs.insert(key.clone(), v.clone()).as_ref() != Some(&v),
                    None => kvs.remove(&key).is_some(),
                };
                if differs {
                    changed.insert(key);
                }
            }
            Some(changed)
        }
        Update::Resync(snapshot) => {
            log::info!(
                "Read {} keys from etcd at revision {}",
                snapshot.kvs.len(),
                snapshot.revision
            );
            let old = model.replace(snapshot.kvs)?;
            let new = model.as_ref().expect("just set");
            Some(diff(&old, new))
        }
    }
}

/// Keys added, removed or changed between two models.
fn diff(old: &Model, new: &Model) -> BTreeSet<String> {
    let mut changed: BTreeSet<String> =
        old.iter().filter(|(k, v)| new.get(*k) != Some(v)).map(|(k, _)| k.clone()).collect();
    changed.extend(new.keys().filter(|k| !old.contains_key(*k)).cloned());
    changed
}

fn merge(dirty: &mut Option<Dirty>, changed: Option<BTreeSet<String>>) {
    match (dirty.as_mut(), changed) {
        (Some(Dirty::All), _) => {}
        (_, None) => *dirty = Some(Dirty::All),
        (Some(Dirty::Keys(keys)), Some(more)) => keys.extend(more),
        (None, Some(keys)) => *dirty = Some(Dirty::Keys(keys)),
    }
}

/// Logs a watch's state change; an outage (which every watch reports) is logged once, until a
/// watch is connected again.
fn log_health(health: &Health, outage: &mut bool) {
    match health {
        Health::Connected { endpoint } => {
            *outage = false;
            log::info!("Watching etcd at {endpoint}")
        }
        Health::Reconnected { endpoint, reason } => {
            *outage = false;
            log::info!("Watch moved to etcd at {endpoint} ({reason})")
        }
        Health::Disconnected { error } => {
            if !std::mem::replace(outage, true) {
                log::error!("{error}; keeping the current configuration and retrying")
            }
        }
        Health::Resyncing { reason } => log::info!("Re-reading etcd: {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(pairs: &[(&str, &str)]) -> Model {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_first_read_dirties_everything_later_ones_only_what_differs() {
        let mut m = None;
        let snap = |pairs| Update::Resync(confd_etcd::Snapshot { revision: 1, kvs: model(pairs) });
        assert_eq!(apply_update(&mut m, snap(&[("/a", "1")])), None);
        let changed = apply_update(&mut m, snap(&[("/a", "1"), ("/b", "2")])).unwrap();
        assert_eq!(changed.into_iter().collect::<Vec<_>>(), ["/b"]);
    }

    #[test]
    fn same_value_puts_change_nothing() {
        let mut m = Some(model(&[("/a", "1")]));
        let changes = vec![("/a".to_string(), Some("1".to_string())), ("/c".to_string(), None)];
        let changed = apply_update(&mut m, Update::Changes { revision: 2, changes }).unwrap();
        assert!(changed.is_empty());
        let changes = vec![("/a".to_string(), None)];
        let changed = apply_update(&mut m, Update::Changes { revision: 3, changes }).unwrap();
        assert_eq!(changed.into_iter().collect::<Vec<_>>(), ["/a"]);
        assert!(m.unwrap().is_empty());
    }

    #[test]
    fn diff_sees_additions_removals_and_changes() {
        let d = diff(&model(&[("/a", "1"), ("/b", "2")]), &model(&[("/b", "3"), ("/c", "4")]));
        assert_eq!(d.into_iter().collect::<Vec<_>>(), ["/a", "/b", "/c"]);
    }
}

//! `-watch` with etcd: one watch per distinct set of keys, shared by the resources that read
//! exactly those keys, each with an in-memory model kept current (`confd_etcd`, which resumes
//! after failures and resyncs after compaction), and passes that re-render only the resources
//! whose keys changed, in batches. A watch that fails (say, a prefix the user may not read)
//! holds up only its own resources.
//!
//! - Nothing is rendered before the first complete read (the watch's first `Resync`).
//! - Each watch response is applied to the model as a unit, between passes.
//! - Each update tells the reconciler (`crate::driver`) which resources read a changed key
//!   and how many keys each reads now; it decides when to render (batches by `-wait`),
//!   reload, retry, roll back or hold (fail static).
//! - While etcd is unreachable the last rendered files stay; the watch retries and this loop
//!   logs the outage once.
//! - SIGHUP re-reads the template resources and restarts the watch (with a fresh full read).
//! - Each group keeps, per resource prefix, the store its resources render from, and applies
//!   every change to it too: a change re-renders without copying every key into a new store
//!   (at 400,000 keys that copy cost more than the render).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;

use confd_core::reconcile::ResourceId;
use confd_core::resource::{clean_relative_key, TemplateResource, WaitSpec};
use confd_etcd::{Etcd, Health, Update, WatchEvent, WatchHandle};
use confd_kv::{KeyPrefix, Store};

use crate::backend::{unclean_notice, ResourceStore, SnapshotValues, StoreBuilder, Values};
use crate::driver::{Driver, Report};
use crate::log;
use crate::process::Settings;
use crate::run::{next_event, start_daemon, stopped, Event, Source};

/// A group's keys and values; the values are shared with the kept stores.
type Model = BTreeMap<String, Arc<str>>;

/// The keys an update changed, or everything (the first read).
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
    /// The etcd revision the model is as of (0 before the first read).
    revision: u64,
    /// Every change of its keys up to this revision has been applied (`WatchEvent::Synced`).
    synced: u64,
    /// Per resource prefix, the store its resources render from, as of the model: built at
    /// the first render, kept current by every change, dropped by a full read.
    stores: RefCell<HashMap<String, KeptStore>>,
    watch: WatchHandle,
}

/// A resource store kept current with a group's model.
struct KeptStore {
    store: Arc<Store>,
    /// The model's keys that are not in clean form, with their notices.
    left_out: BTreeMap<String, String>,
}

impl KeptStore {
    /// The store of the model's keys under `keys`, sharing the model's values.
    fn new(prefix: &str, keys: &[String], model: &Model) -> KeptStore {
        let mut builder = StoreBuilder::new(prefix);
        for key in keys {
            // A key under two of `keys` comes twice; the store keeps it once.
            for (k, v) in KeyPrefix::new(key).select(model) {
                builder.shared_pair(k, || v.clone());
            }
        }
        let (store, left_out) = builder.finish_with_keys();
        let left_out = left_out
            .into_iter()
            .map(|key| {
                let notice = unclean_notice(&key);
                (key, notice)
            })
            .collect();
        KeptStore { store, left_out }
    }

    /// Brings the store in line with `model` for `keys`, the keys a change touched.
    fn apply(&mut self, prefix: &str, keys: &BTreeSet<String>, model: &Model) {
        let mut changes = Vec::new();
        for key in keys {
            match (clean_relative_key(prefix, key), model.get(key)) {
                (Some(relative), value) => changes.push((Arc::from(&*relative), value.cloned())),
                (None, Some(_)) => {
                    self.left_out.insert(key.clone(), unclean_notice(key));
                }
                (None, None) => {
                    self.left_out.remove(key);
                }
            }
        }
        if !changes.is_empty() {
            Arc::make_mut(&mut self.store).update(changes);
        }
    }

    fn resource_store(&self) -> ResourceStore {
        ResourceStore {
            store: self.store.clone(),
            left_out: self.left_out.values().cloned().collect(),
        }
    }
}

/// A group's model as a resource reads it: its keys, at its revision.
struct GroupValues<'a> {
    values: SnapshotValues<'a, Arc<str>>,
    revision: u64,
    stores: &'a RefCell<HashMap<String, KeptStore>>,
}

impl Values for GroupValues<'_> {
    fn values(&self, keys: &[String]) -> Result<BTreeMap<String, String>, String> {
        self.values.values(keys)
    }

    fn revision(&self) -> u64 {
        self.revision
    }

    /// Every resource of a group reads the group's keys, so the store depends only on the
    /// resource's prefix.
    fn store(&self, res: &TemplateResource) -> Result<ResourceStore, String> {
        let mut stores = self.stores.borrow_mut();
        if let Some(kept) = stores.get(&res.prefix) {
            return Ok(kept.resource_store());
        }
        let kept = KeptStore::new(&res.prefix, &res.prefixed_keys(), self.values.0);
        let store = kept.resource_store();
        stores.insert(res.prefix.clone(), kept);
        Ok(store)
    }
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
            Group { keys, model: None, revision: 0, synced: 0, stores: RefCell::default(), watch }
        })
        .collect()
}

fn stop_groups(groups: Vec<Group>) {
    for g in groups {
        g.watch.stop();
    }
}

pub fn run(source: &Source, etcd: &Etcd, settings: &Settings, wait: WaitSpec) -> ExitCode {
    let (tx, rx, resources) = match start_daemon(source, settings) {
        Ok(started) => started,
        Err(code) => return code,
    };
    // Events of a stopped watch may still be in flight; each set of watches has a generation.
    let mut generation = 0;
    let window = crate::run::effective_wait(&resources, wait);
    let driver = Driver::new(resources, settings, window);
    let mut watching = Watching::start(etcd, driver, &tx, generation);
    // Every watch reports an outage; it is logged once for all of them.
    let mut outage = false;
    loop {
        let first = match next_event(&rx, watching.driver.next_wakeup(), &settings.status) {
            Ok(event) => Some(event),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return ExitCode::SUCCESS,
        };
        // What arrived while the last pass ran is taken in too, so that a burst is caught
        // up with in one pass, as confd catches up to the latest revision.
        for event in first.into_iter().chain(std::iter::from_fn(|| rx.try_recv().ok())) {
            match event {
                Event::Stop(sig) => {
                    watching.stop();
                    return stopped(sig);
                }
                Event::Reload => match source.load() {
                    Ok(r) => {
                        log::info!("Reloaded {} template resources; re-reading etcd", r.len());
                        generation += 1;
                        watching = watching.restart(etcd, r, settings, wait, &tx, generation);
                    }
                    Err(e) => log::error!("SIGHUP: keeping the current template resources: {e}"),
                },
                Event::Release => watching.driver.release(),
                Event::Changed | Event::Store(_) => {}
                Event::Etcd(g, _, _) if g != generation => {}
                Event::Etcd(_, _, WatchEvent::Status(health)) => {
                    log_health(&health, &mut outage);
                    settings.metrics.store_up.set(i64::from(!outage));
                }
                Event::Etcd(_, i, WatchEvent::Synced { revision }) => {
                    if let Some(g) = watching.groups.get_mut(i) {
                        g.synced = u64::try_from(revision).unwrap_or(0);
                    }
                    // The least caught-up watch is how far confd has caught up.
                    let least = watching.groups.iter().map(|g| g.synced).min().unwrap_or(0);
                    settings
                        .metrics
                        .store_synced_revision
                        .set(i64::try_from(least).unwrap_or(i64::MAX));
                }
                Event::Etcd(_, i, WatchEvent::Update(update)) => {
                    watching.apply(i, update);
                    let newest = watching.groups.iter().map(|g| g.revision).max().unwrap_or(0);
                    settings.metrics.store_revision.set(i64::try_from(newest).unwrap_or(i64::MAX));
                }
            }
        }
        watching.run_due(settings);
        let ready = match watching.driver.readiness() {
            Ok(()) if outage => Err("etcd is unreachable; serving the last config".to_string()),
            other => other,
        };
        settings.status.set_ready(ready);
    }
}

/// The watches of one set of resources, their models, and the driver deciding for them.
struct Watching {
    groups: Vec<Group>,
    /// Per resource, the index of its group.
    group_of: Vec<usize>,
    driver: Driver,
}

impl Watching {
    /// Watches for the resources of `driver`: one per distinct set of keys.
    fn start(etcd: &Etcd, driver: Driver, tx: &Sender<Event>, generation: u64) -> Watching {
        let resources = driver.resources();
        let groups = start_groups(etcd, resources, tx, generation);
        let group_of = resources
            .iter()
            .map(|r| {
                let keys = sorted_keys(r);
                groups.iter().position(|g| g.keys == keys).expect("every key set has a group")
            })
            .collect();
        Watching { groups, group_of, driver }
    }

    fn stop(&mut self) {
        stop_groups(std::mem::take(&mut self.groups));
    }

    /// New watches for re-read `resources` (each starts with a full read); the driver takes
    /// over what the old one knew of the resources that stayed the same.
    fn restart(
        mut self,
        etcd: &Etcd,
        resources: Vec<TemplateResource>,
        settings: &Settings,
        wait: WaitSpec,
        tx: &Sender<Event>,
        generation: u64,
    ) -> Watching {
        self.stop();
        let window = crate::run::effective_wait(&resources, wait);
        let driver = self.driver.replace(resources, settings, window);
        Watching::start(etcd, driver, tx, generation)
    }

    /// Applies an update to group `i`'s model, and tells the reconciler which resources read
    /// what it changed, and how many keys each reads now.
    fn apply(&mut self, i: usize, update: Update) {
        let Some(group) = self.groups.get_mut(i) else { return };
        let revision = match &update {
            Update::Changes { revision, .. } => *revision,
            Update::Resync(snapshot) => snapshot.revision,
        };
        group.revision = u64::try_from(revision).unwrap_or(0);
        let changed = apply_update(&mut group.model, update);
        let dirty = match changed {
            Some(keys) if keys.is_empty() => return,
            Some(keys) => Dirty::Keys(keys),
            None => Dirty::All,
        };
        match (&dirty, &group.model) {
            (Dirty::Keys(keys), Some(model)) => {
                for (prefix, kept) in group.stores.get_mut().iter_mut() {
                    kept.apply(prefix, keys, model);
                }
            }
            _ => group.stores.get_mut().clear(),
        }
        let count = group.model.as_ref().map(BTreeMap::len);
        let readers: Vec<usize> = (0..self.group_of.len())
            .filter(|&id| {
                self.group_of[id] == i && reads_changed(&self.driver.resources()[id], &dirty)
            })
            .collect();
        for id in readers {
            self.driver.changed(id, count);
        }
    }

    /// Renders what is due, each resource from its group's model.
    fn run_due(&mut self, settings: &Settings) {
        self.with_models(|driver, values| driver.run_due(settings, values));
    }

    fn with_models(
        &mut self,
        f: impl for<'v> FnOnce(&mut Driver, &dyn Fn(ResourceId) -> &'v dyn Values) -> Report,
    ) {
        let empty = Model::new();
        let views: Vec<GroupValues<'_>> = self
            .groups
            .iter()
            .map(|g| GroupValues {
                values: SnapshotValues(g.model.as_ref().unwrap_or(&empty)),
                revision: g.revision,
                stores: &g.stores,
            })
            .collect();
        let group_of = &self.group_of;
        f(&mut self.driver, &|id| &views[group_of[id]]);
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
            let prefixes: Vec<KeyPrefix> =
                res.prefixed_keys().iter().map(|k| KeyPrefix::new(k)).collect();
            keys.iter().any(|k| prefixes.iter().any(|p| p.selects(k)))
        }
    }
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
                    Some(v) => {
                        let differs = kvs.get(&key).is_none_or(|old| **old != *v);
                        if differs {
                            kvs.insert(key.clone(), Arc::from(v));
                        }
                        differs
                    }
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
            let new: Model = snapshot.kvs.into_iter().map(|(k, v)| (k, Arc::from(v))).collect();
            let old = model.replace(new)?;
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
        Health::Split { prefixes, endpoint } => log::warning!(
            "etcd at {endpoint} refused one watch over the range covering {prefixes}: watching \
             each prefix on its own, so a transaction across them may render in two passes \
             (grant confd read access to the whole range to keep it whole)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(pairs: &[(&str, &str)]) -> Model {
        pairs.iter().map(|(k, v)| (k.to_string(), Arc::from(*v))).collect()
    }

    /// A kept store, changed key by key, is the store a full build from the model gives.
    #[test]
    fn a_kept_store_follows_every_change_as_a_full_build_would() {
        let prefix = "/dc";
        let mut m = model(&[("/dc/up/a", "1"), ("/dc/up/b", "2"), ("/dc/up/../x", "evil")]);
        let keys = ["/dc".to_string()];
        let mut kept = KeptStore::new(prefix, &keys, &m);
        let full_build = |m: &Model| {
            ResourceStore::build(
                prefix,
                m.iter().map(|(k, v)| (k.clone(), v.to_string())).collect(),
            )
        };
        let steps: &[&[(&str, Option<&str>)]] = &[
            &[("/dc/up/c", Some("3")), ("/dc/up/a", None)],
            &[("/dc/up/b", Some("22")), ("/dc/up//y", Some("odd"))],
            &[("/dc/up/../x", None), ("/dc", Some("root")), ("/dc/up/c", None)],
        ];
        for step in steps {
            let mut keys = BTreeSet::new();
            for (k, v) in *step {
                match v {
                    Some(v) => m.insert(k.to_string(), Arc::from(*v)),
                    None => m.remove(*k),
                };
                keys.insert(k.to_string());
            }
            kept.apply(prefix, &keys, &m);
            let built = full_build(&m);
            let now = kept.resource_store();
            assert_eq!(*now.store, *built.store, "after {step:?}");
            assert_eq!(now.left_out, built.left_out, "after {step:?}");
        }
        assert_eq!(kept.left_out.len(), 1, "{:?}", kept.left_out);
        // The store holds the model's values, not copies.
        let in_store = kept.store.get("/up/b").expect("kept").value;
        assert!(Arc::ptr_eq(&in_store, &m["/dc/up/b"]));
    }

    #[test]
    fn the_first_read_dirties_everything_later_ones_only_what_differs() {
        let mut m = None;
        let snap = |pairs: &[(&str, &str)]| {
            let kvs = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            Update::Resync(confd_etcd::Snapshot { revision: 1, kvs })
        };
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

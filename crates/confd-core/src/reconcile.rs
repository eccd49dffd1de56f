//! The reconciler: the one place that decides what to render, when to reload, what to hold
//! and when to try again — for every mode. It does no I/O and reads no clock: the driver
//! feeds it [`Event`]s with the current time, asks it what to do ([`Reconciler::poll`]),
//! carries out the [`Action`]s, reports their outcomes as events, and sleeps until
//! [`Reconciler::next_wakeup`] or the next input.
//!
//! # Theory of operation
//!
//! **Batching.** A change marks the resources that read it dirty. They are rendered once the
//! changes have been quiet for `wait.quiet`, or `wait.max` after the first change of the batch
//! (trailing edge), whichever comes first. With `quiet == 0` every change renders at once.
//!
//! **Reloads.** A resource whose dest was replaced makes its reload command due. Resources
//! sharing a command share one run per pass. A command runs at most once per its resources'
//! `min_reload_interval`: a reload due inside the interval is deferred to its end and
//! coalesced with whatever else comes due meanwhile — never dropped.
//!
//! **Retry.** A failed write or check (anything the shell reports as retryable) is tried again
//! after a backoff (1 s doubling to 30 s) until it succeeds or the input changes (a change
//! renders it with the next batch and starts the backoff afresh).
//!
//! **Rollback.** When a reload command fails, the resources it was to load are put back to
//! the file the server last loaded ([`Action::Rollback`]), so file and server agree, and
//! are retried as above: the next try renders, swaps and reloads again.
//!
//! **Fail static.** A resource with a `max_removal` is held when a batch would leave it
//! reading fewer keys than its last applied render by more than that fraction (a wiped or
//! restored store): nothing is rendered and [`Notice::Held`] says so. The hold ends when the
//! keys come back, when the count has stayed the same for `hold_time`, or on
//! [`Event::Release`] (SIGUSR1). Removing fewer than [`MIN_HELD_REMOVAL`] keys is never held.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::resource::WaitSpec;

/// Index of a resource, in the order the driver registered them.
pub type ResourceId = usize;

/// Index of a distinct reload command.
pub type ReloadId = usize;

/// The first wait before a retry; it doubles per failure up to [`RETRY_CAP`].
pub const RETRY_FIRST: Duration = Duration::from_secs(1);
/// The longest wait between retries.
pub const RETRY_CAP: Duration = Duration::from_secs(30);

/// Fewer keys than this going at once are ordinary churn (an instance or two), never held,
/// whatever fraction of a small resource they are.
pub const MIN_HELD_REMOVAL: usize = 3;

/// What the reconciler needs to know of one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Its reload command (resources with the same command share one reload); `None`: none,
    /// or sync-only mode.
    pub reload: Option<String>,
    /// A reload command runs at most once per this interval (the longest of its resources').
    pub min_reload_interval: Duration,
    /// Hold a batch that would remove more than this fraction of the keys the last applied
    /// render read; `None`: never hold.
    pub max_removal: Option<f64>,
    /// A held removal that has not changed for this long is applied.
    pub hold_time: Duration,
}

/// Something that happened, reported by the driver.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Keys that `resource` reads changed (or its input must be rendered anew: the first
    /// read, a resync, an interval tick); it now reads `keys` keys (`None`: not counted, and
    /// never held).
    Changed { resource: ResourceId, keys: Option<usize> },
    /// The outcome of rendering `resource` after an [`Action::Render`].
    Rendered { resource: ResourceId, outcome: RenderOutcome },
    /// The outcome of an [`Action::Reload`].
    Reloaded { reload: ReloadId, ok: bool },
    /// Render what is pending now, without waiting for the rest of the batch window (the first
    /// pass at start, a pass of interval mode). Reloads still keep their interval.
    Flush,
    /// Release every hold now (SIGUSR1).
    Release,
}

/// How one render ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderOutcome {
    /// Dest was replaced: its reload command is due.
    Updated,
    /// Dest already had these contents (or noop mode).
    Unchanged,
    /// It failed; `retry`: a later try may succeed without a change of input (a write, a
    /// check, a store read), as opposed to a template error.
    Failed { retry: bool },
}

/// What the driver should do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Render, check and swap these resources, in this order, and report each.
    Render(Vec<ResourceId>),
    /// Run this reload command and report the outcome.
    Reload(ReloadId),
    /// Put back the file the server last loaded for these resources (the reload failed).
    Rollback(Vec<ResourceId>),
    /// Tell the operator.
    Notice(Notice),
}

/// Decisions the operator should hear about.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// A batch would remove `removing` of the `of` keys `resource` read: held.
    Held { resource: ResourceId, removing: usize, of: usize, hold_time: Duration },
    /// A hold ended.
    Released { resource: ResourceId, why: Release },
    /// A failed resource is tried again `after` from now (its `attempt`th retry).
    Retry { resource: ResourceId, attempt: u32, after: Duration },
    /// A reload is deferred to `after` from now by the minimum reload interval.
    ReloadDeferred { reload: ReloadId, after: Duration },
}

/// Why a hold ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// The keys came back (the removal is within `max_removal` again).
    KeysBack,
    /// The removal stayed the same for `hold_time`.
    Stable,
    /// The operator said so (SIGUSR1).
    Operator,
}

#[derive(Debug, Clone, Copy)]
struct Retry {
    at: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Hold {
    /// Since when the count has been `keys`.
    since: Instant,
    keys: usize,
}

#[derive(Debug)]
struct Resource {
    policy: Policy,
    reload: Option<ReloadId>,
    /// The latest count of its keys, and the count its last applied render read.
    keys: Option<usize>,
    baseline: Option<usize>,
    dirty: bool,
    hold: Option<Hold>,
    /// Set when a hold is released: the next render goes through whatever it removes.
    released: bool,
    retry: Option<Retry>,
    /// Failures in a row, for the backoff.
    failures: u32,
    /// Dest replaced, its reload not yet confirmed: rolled back if the reload fails.
    awaiting_reload: bool,
}

#[derive(Debug)]
struct Reload {
    min_interval: Duration,
    last_run: Option<Instant>,
    due: bool,
    /// A deferral already announced.
    deferred_noticed: bool,
}

/// The decision core. See the module docs.
#[derive(Debug)]
pub struct Reconciler {
    wait: WaitSpec,
    resources: Vec<Resource>,
    /// Each distinct reload command, indexed by [`ReloadId`], and its state.
    commands: Vec<String>,
    reloads: Vec<Reload>,
    /// The first and the latest change of the batch being gathered.
    batch: Option<(Instant, Instant)>,
    /// Actions decided while handling events, handed out by the next poll.
    queued: Vec<Action>,
    /// Renders and reloads handed out and not yet reported.
    in_flight: usize,
    /// [`Event::Flush`]: the batch is due now, whatever the window says.
    flush: bool,
}

impl Reconciler {
    /// A reconciler for resources with these policies, batching changes by `wait`.
    pub fn new(wait: WaitSpec, policies: Vec<Policy>) -> Reconciler {
        let mut commands: Vec<String> = Vec::new();
        let mut reloads: Vec<Reload> = Vec::new();
        let mut resources = Vec::with_capacity(policies.len());
        for policy in policies {
            let reload = policy.reload.as_ref().map(|cmd| {
                let id = commands.iter().position(|c| c == cmd).unwrap_or_else(|| {
                    commands.push(cmd.clone());
                    reloads.push(Reload {
                        min_interval: Duration::ZERO,
                        last_run: None,
                        due: false,
                        deferred_noticed: false,
                    });
                    commands.len() - 1
                });
                let r = &mut reloads[id];
                r.min_interval = r.min_interval.max(policy.min_reload_interval);
                id
            });
            resources.push(Resource {
                policy,
                reload,
                keys: None,
                baseline: None,
                dirty: false,
                hold: None,
                released: false,
                retry: None,
                failures: 0,
                awaiting_reload: false,
            });
        }
        Reconciler {
            wait,
            resources,
            commands,
            reloads,
            batch: None,
            queued: Vec::new(),
            in_flight: 0,
            flush: false,
        }
    }

    /// Takes over what `old` knew of the resources that are the same in both (`same(id)`: the
    /// id in `old` of resource `id`, if it is the same resource): key counts, baselines, holds,
    /// retries, pending changes and swaps awaiting their reload; and of each reload command
    /// (matched by its text) when it last ran and whether it is due. Re-reading the resources
    /// (SIGHUP) thus neither forgets a hold nor lets a reload run sooner than its interval.
    pub fn carry_over(
        &mut self,
        old: &Reconciler,
        same: impl Fn(ResourceId) -> Option<ResourceId>,
    ) {
        for (id, r) in self.resources.iter_mut().enumerate() {
            let Some(o) = same(id).and_then(|o| old.resources.get(o)) else { continue };
            r.keys = o.keys;
            r.baseline = o.baseline;
            r.dirty = o.dirty;
            r.hold = o.hold;
            r.released = o.released;
            r.retry = o.retry;
            r.failures = o.failures;
            r.awaiting_reload = o.awaiting_reload;
        }
        for (i, command) in self.commands.iter().enumerate() {
            if let Some(j) = old.commands.iter().position(|c| c == command) {
                self.reloads[i].last_run = old.reloads[j].last_run;
                self.reloads[i].due = old.reloads[j].due;
            }
        }
        self.batch = old.batch;
    }

    /// The reload command of resource `id`, as [`Action::Reload`] names it.
    pub fn reload_of(&self, id: ResourceId) -> Option<ReloadId> {
        self.resources.get(id).and_then(|r| r.reload)
    }

    /// Takes in one event.
    pub fn handle(&mut self, event: Event, now: Instant) {
        match event {
            Event::Changed { resource, keys } => self.changed(resource, keys, now),
            Event::Rendered { resource, outcome } => self.rendered(resource, outcome, now),
            Event::Reloaded { reload, ok } => self.reloaded(reload, ok, now),
            Event::Flush => self.flush = true,
            Event::Release => self.release_all(),
        }
    }

    fn changed(&mut self, id: ResourceId, keys: Option<usize>, now: Instant) {
        let Some(r) = self.resources.get_mut(id) else { return };
        r.dirty = true;
        r.keys = keys;
        // New input: whatever failed is tried with it, from a fresh backoff.
        r.retry = None;
        r.failures = 0;
        let (first, _) = self.batch.unwrap_or((now, now));
        self.batch = Some((first, now));
    }

    fn rendered(&mut self, id: ResourceId, outcome: RenderOutcome, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let Some(r) = self.resources.get_mut(id) else { return };
        match outcome {
            RenderOutcome::Updated | RenderOutcome::Unchanged => {
                r.baseline = r.keys;
                r.retry = None;
                match (outcome, r.reload) {
                    // Done only once the reload has loaded it: failures keep counting.
                    (RenderOutcome::Updated, Some(reload)) => {
                        r.awaiting_reload = true;
                        self.reloads[reload].due = true;
                    }
                    _ => r.failures = 0,
                }
            }
            RenderOutcome::Failed { retry: false } => {}
            RenderOutcome::Failed { retry: true } => {
                let notice = schedule_retry(id, r, now);
                self.queued.push(Action::Notice(notice));
            }
        }
    }

    fn reloaded(&mut self, id: ReloadId, ok: bool, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let Some(reload) = self.reloads.get_mut(id) else { return };
        reload.last_run = Some(now);
        reload.due = false;
        reload.deferred_noticed = false;
        let mut rolled_back = Vec::new();
        for (rid, r) in self.resources.iter_mut().enumerate() {
            if r.reload != Some(id) || !std::mem::take(&mut r.awaiting_reload) {
                continue;
            }
            if ok {
                r.failures = 0;
            } else {
                rolled_back.push(rid);
                // A held resource is rendered again when its hold ends, not by a retry.
                if r.hold.is_none() {
                    let notice = schedule_retry(rid, r, now);
                    self.queued.push(Action::Notice(notice));
                }
            }
        }
        if !rolled_back.is_empty() {
            self.queued.insert(0, Action::Rollback(rolled_back));
        }
    }

    fn release_all(&mut self) {
        for (id, r) in self.resources.iter_mut().enumerate() {
            if r.hold.take().is_some() {
                r.released = true;
                r.dirty = true;
                self.queued.push(Action::Notice(Notice::Released {
                    resource: id,
                    why: Release::Operator,
                }));
            }
        }
    }

    /// What to do now. Call it after every event and whenever [`Reconciler::next_wakeup`]
    /// has passed; carry out the actions in order and report the outcome of each render and
    /// reload before polling again.
    pub fn poll(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = std::mem::take(&mut self.queued);
        if self.in_flight > 0 {
            return actions;
        }
        self.release_stable_holds(now, &mut actions);
        let flush = std::mem::take(&mut self.flush);
        let batch_due =
            self.batch.is_some_and(|(first, last)| flush || self.batch_due(first, last, now));
        if batch_due {
            self.batch = None;
        }
        let mut render = Vec::new();
        for id in 0..self.resources.len() {
            if self.wants_render(id, batch_due, now, &mut actions) {
                render.push(id);
            }
        }
        if !render.is_empty() {
            self.in_flight = render.len();
            actions.push(Action::Render(render));
            return actions;
        }
        self.due_reloads(now, &mut actions);
        actions
    }

    fn batch_due(&self, first: Instant, last: Instant, now: Instant) -> bool {
        self.wait.is_disabled()
            || last.checked_add(self.wait.quiet).is_some_and(|quiet| now >= quiet)
            || first.checked_add(self.wait.max).is_some_and(|max| now >= max)
    }

    /// Whether resource `id` renders in this poll; holds it (with a notice) when its batch
    /// would remove too much.
    fn wants_render(
        &mut self,
        id: ResourceId,
        batch_due: bool,
        now: Instant,
        actions: &mut Vec<Action>,
    ) -> bool {
        let r = &mut self.resources[id];
        let retry_due = r.retry.is_some_and(|t| now >= t.at);
        if std::mem::take(&mut r.released) {
            r.dirty = false;
            return true;
        }
        if retry_due {
            r.retry = None;
            if r.hold.is_none() {
                return true;
            }
        }
        if !(r.dirty && batch_due) {
            return false;
        }
        r.dirty = false;
        match removal(r) {
            Some((removing, of)) => {
                let keys = r.keys.unwrap_or(0);
                if r.hold.is_none_or(|h| h.keys != keys) {
                    r.hold = Some(Hold { since: now, keys });
                    let hold_time = r.policy.hold_time;
                    actions.push(Action::Notice(Notice::Held {
                        resource: id,
                        removing,
                        of,
                        hold_time,
                    }));
                }
                false
            }
            None => {
                if r.hold.take().is_some() {
                    actions.push(Action::Notice(Notice::Released {
                        resource: id,
                        why: Release::KeysBack,
                    }));
                }
                true
            }
        }
    }

    fn release_stable_holds(&mut self, now: Instant, actions: &mut Vec<Action>) {
        for (id, r) in self.resources.iter_mut().enumerate() {
            let Some(hold) = r.hold else { continue };
            // A count that changed since the hold was last judged is judged again with its
            // batch first (which restarts the hold time).
            let stable = r.keys == Some(hold.keys);
            if stable && hold.since.checked_add(r.policy.hold_time).is_some_and(|t| now >= t) {
                r.hold = None;
                r.released = true;
                actions
                    .push(Action::Notice(Notice::Released { resource: id, why: Release::Stable }));
            }
        }
    }

    fn due_reloads(&mut self, now: Instant, actions: &mut Vec<Action>) {
        for (id, reload) in self.reloads.iter_mut().enumerate() {
            if !reload.due {
                continue;
            }
            match reload_allowed_at(reload) {
                Some(at) if now < at => {
                    if !std::mem::replace(&mut reload.deferred_noticed, true) {
                        actions.push(Action::Notice(Notice::ReloadDeferred {
                            reload: id,
                            after: at - now,
                        }));
                    }
                }
                _ => {
                    self.in_flight += 1;
                    actions.push(Action::Reload(id));
                }
            }
        }
    }

    /// When [`Reconciler::poll`] next has something to do by itself (without an event):
    /// the end of the batch window, a retry, the end of a hold, a deferred reload.
    pub fn next_wakeup(&self) -> Option<Instant> {
        // A time past what the clock can express is never.
        let batch = self.batch.and_then(|(first, last)| {
            if self.wait.is_disabled() || self.flush {
                return Some(last);
            }
            let quiet = last.checked_add(self.wait.quiet);
            quiet.into_iter().chain(first.checked_add(self.wait.max)).min()
        });
        let retries = self.resources.iter().filter_map(|r| r.retry.map(|t| t.at));
        let holds = self
            .resources
            .iter()
            .filter_map(|r| r.hold.and_then(|h| h.since.checked_add(r.policy.hold_time)));
        let reloads = self.reloads.iter().filter(|r| r.due).filter_map(reload_allowed_at);
        batch.into_iter().chain(retries).chain(holds).chain(reloads).min()
    }

    /// The resources currently held.
    pub fn held(&self) -> BTreeSet<ResourceId> {
        (0..self.resources.len()).filter(|&id| self.resources[id].hold.is_some()).collect()
    }
}

/// When a due reload may run: `None` = now.
fn reload_allowed_at(reload: &Reload) -> Option<Instant> {
    reload.last_run.and_then(|t| t.checked_add(reload.min_interval))
}

/// Whether the resource's batch removes too much: (keys removed, of how many).
fn removal(r: &Resource) -> Option<(usize, usize)> {
    let max = r.policy.max_removal?;
    let (Some(now), Some(before)) = (r.keys, r.baseline) else { return None };
    let removing = before.saturating_sub(now);
    let held = removing >= MIN_HELD_REMOVAL && removing as f64 > max * before as f64;
    held.then_some((removing, before))
}

/// Schedules the next try of a failed resource.
fn schedule_retry(id: ResourceId, r: &mut Resource, now: Instant) -> Notice {
    r.failures = r.failures.saturating_add(1);
    let after = backoff(r.failures);
    r.retry = Some(Retry { at: now + after });
    Notice::Retry { resource: id, attempt: r.failures, after }
}

/// 1 s, 2 s, 4 s, … up to 30 s.
fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    RETRY_FIRST.saturating_mul(1 << doublings).min(RETRY_CAP)
}

#[cfg(test)]
mod tests;

//! The shell around the reconciler (`confd_core::reconcile`): every mode feeds it what
//! happened, and this carries out what it decides — renders, reloads, rollbacks — and says
//! what it decided. The modes differ only in where changes and data come from (`crate::run`,
//! `crate::watch_etcd`).

use std::time::{Duration, Instant};

use confd_apply::Previous;
use confd_core::reconcile::{
    Action, Event, Notice, Policy, Reconciler, Release, ReloadId, RenderOutcome, ResourceId,
};
use confd_core::resource::{PushTarget, TemplateResource, WaitSpec};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use crate::backend::Values;
use crate::log;
use crate::metrics::{self, ResourceLabel};
use crate::process::{self, Failure, Fault, Live, Processed, Settings};
use crate::push;

/// The resources of one configuration, the reconciler deciding for them, and what is needed
/// to undo a swap the server could not load.
pub struct Driver {
    resources: Vec<TemplateResource>,
    reconciler: Reconciler,
    /// `-onetime`: there is no later, so no retry is announced.
    once: bool,
    /// Per resource, while its new dest awaits its reload: what dest was before (inner
    /// `None`: it did not exist).
    unconfirmed: Vec<Option<Option<Previous>>>,
    /// Per push resource, the membership of its last render: what its push sends.
    live: Vec<Option<Live>>,
    /// Per push resource, whether a push has been confirmed since start. Until then a render
    /// that leaves dest as it was is pushed all the same: the server may have started from an
    /// older file, or confd may have stopped between the swap and the push.
    pushed: Vec<bool>,
    /// Per resource, whether it has rendered without error since start (readiness).
    rendered: Vec<bool>,
}

/// What carrying out the due work went through: the failures, in order.
#[derive(Debug, Default)]
pub struct Report {
    pub failures: Vec<Failure>,
}

impl Driver {
    /// A driver for `resources`, batching changes by `wait`.
    pub fn new(resources: Vec<TemplateResource>, settings: &Settings, wait: WaitSpec) -> Driver {
        let policies = resources.iter().map(|r| policy(r, settings)).collect();
        let unconfirmed = resources.iter().map(|_| None).collect();
        let live = resources.iter().map(|_| None).collect();
        let pushed = vec![false; resources.len()];
        let rendered = vec![false; resources.len()];
        Driver {
            reconciler: Reconciler::new(wait, policies),
            resources,
            unconfirmed,
            live,
            pushed,
            rendered,
            once: false,
        }
    }

    /// A driver for one pass of `-onetime`.
    pub fn once(resources: Vec<TemplateResource>, settings: &Settings) -> Driver {
        Driver { once: true, ..Driver::new(resources, settings, WaitSpec::DISABLED) }
    }

    /// A driver for re-read `resources` that takes over what this one knew of those that are
    /// the same (same file, same keys): holds, baselines, retries, swaps awaiting their
    /// reload, and when each reload command last ran.
    pub fn replace(
        self,
        resources: Vec<TemplateResource>,
        settings: &Settings,
        wait: WaitSpec,
    ) -> Driver {
        let mut next = Driver::new(resources, settings, wait);
        let same = |id: ResourceId| {
            let r = &next.resources[id];
            self.resources
                .iter()
                .position(|o| o.path == r.path && o.prefixed_keys() == r.prefixed_keys())
        };
        let same: Vec<Option<ResourceId>> = (0..next.resources.len()).map(same).collect();
        next.reconciler.carry_over(&self.reconciler, |id| same[id]);
        let (mut old_unconfirmed, mut old_live) = (self.unconfirmed, self.live);
        for (id, old) in same.iter().enumerate() {
            if let Some(old) = *old {
                next.unconfirmed[id] = old_unconfirmed[old].take();
                next.live[id] = old_live[old].take();
                // Confirmed by the same endpoint only: a new `push` target gets a first push.
                let same_target = self.resources[old].push == next.resources[id].push;
                next.pushed[id] = self.pushed[old] && same_target;
                next.rendered[id] = self.rendered[old];
            }
        }
        next
    }

    pub fn resources(&self) -> &[TemplateResource] {
        &self.resources
    }

    /// `Ok` once every resource has rendered without error; else which one has not yet.
    pub fn readiness(&self) -> Result<(), String> {
        match self.rendered.iter().position(|done| !done) {
            None => Ok(()),
            Some(id) => Err(format!("{} has not rendered yet", self.resources[id].path.display())),
        }
    }

    /// The keys of resource `id` changed; it now reads `keys` keys (`None`: not counted).
    pub fn changed(&mut self, id: ResourceId, keys: Option<usize>) {
        self.reconciler.handle(Event::Changed { resource: id, keys }, Instant::now());
    }

    /// Every resource must be rendered anew (a pass of interval mode, a file change).
    pub fn changed_all(&mut self) {
        for id in 0..self.resources.len() {
            self.changed(id, None);
        }
    }

    /// Every resource renders at the next [`Driver::run_due`], without waiting for the batch
    /// window (the first pass).
    pub fn render_all_now(&mut self) {
        self.changed_all();
        self.reconciler.handle(Event::Flush, Instant::now());
    }

    /// Releases every fail-static hold (SIGUSR1).
    pub fn release(&mut self) {
        self.reconciler.handle(Event::Release, Instant::now());
    }

    /// When [`Driver::run_due`] next has work without a new event.
    pub fn next_wakeup(&self) -> Option<Instant> {
        self.reconciler.next_wakeup()
    }

    /// Carries out everything due now; `values(id)` is where resource `id` reads its keys.
    pub fn run_due<'v>(
        &mut self,
        settings: &Settings,
        values: &dyn Fn(ResourceId) -> &'v dyn Values,
    ) -> Report {
        let mut report = Report::default();
        let mut worked = false;
        while !settings.cancel.is_cancelled() {
            let actions = self.reconciler.poll(Instant::now());
            if actions.is_empty() {
                break;
            }
            worked = true;
            for action in actions {
                if settings.cancel.is_cancelled() {
                    break;
                }
                self.carry_out(action, settings, values, &mut report);
            }
        }
        // A daemon waits for the next change with what the pass freed given back; `-onetime`
        // is about to exit.
        if worked && !self.once {
            crate::memory::release_free_memory();
        }
        report
    }

    fn carry_out<'v>(
        &mut self,
        action: Action,
        settings: &Settings,
        values: &dyn Fn(ResourceId) -> &'v dyn Values,
        report: &mut Report,
    ) {
        match action {
            Action::Render(ids) => {
                if ids.len() > 1 || self.resources.len() > 1 {
                    log::debug!("{} of {} resources to render", ids.len(), self.resources.len());
                }
                for id in ids {
                    let outcome = self.render(id, values(id), settings, report);
                    let event = Event::Rendered { resource: id, outcome };
                    self.reconciler.handle(event, Instant::now());
                }
            }
            Action::Reload(reload) => {
                let ok = self.reload(reload, settings, report);
                self.reconciler.handle(Event::Reloaded { reload, ok }, Instant::now());
            }
            Action::Rollback(ids) => ids.into_iter().for_each(|id| self.roll_back(id)),
            Action::Notice(notice) => self.tell(&notice, settings),
        }
    }

    fn render(
        &mut self,
        id: ResourceId,
        values: &dyn Values,
        settings: &Settings,
        report: &mut Report,
    ) -> RenderOutcome {
        let reloads = self.reconciler.reload_of(id).is_some();
        let started = Instant::now();
        let result = process::process(&self.resources[id], values, settings);
        let m = &settings.metrics;
        let path = &self.resources[id].path;
        m.render_seconds
            .get_or_create(&metrics::resource(path))
            .observe(started.elapsed().as_secs_f64());
        let outcome = match &result {
            Ok((Processed::Updated { .. }, _)) => "updated",
            Ok((Processed::Unchanged, _)) => "unchanged",
            Err(_) => "failed",
        };
        m.renders.get_or_create(&metrics::outcome(path, outcome)).inc();
        if result.is_ok() {
            self.rendered[id] = true;
            m.last_success.get_or_create(&metrics::resource(path)).set(confd_metrics::unix_now());
        }
        match result {
            Ok((processed, live)) => {
                if live.is_some() {
                    self.live[id] = live;
                }
                match processed {
                    Processed::Updated { previous } => {
                        // The server still runs what dest was before the first unconfirmed swap.
                        if reloads && self.unconfirmed[id].is_none() {
                            self.unconfirmed[id] = Some(previous);
                        }
                        RenderOutcome::Updated
                    }
                    Processed::Unchanged
                        if reloads && self.live[id].is_some() && !self.pushed[id] =>
                    {
                        RenderOutcome::Updated
                    }
                    Processed::Unchanged => RenderOutcome::Unchanged,
                }
            }
            Err(failure) => {
                let retry = failure.fault == Fault::Transient;
                report.failures.push(failure);
                RenderOutcome::Failed { retry }
            }
        }
    }

    /// Runs reload command `reload` (as the first of its resources names it), or pushes a push
    /// resource's membership; on success the swaps it loaded are confirmed.
    fn reload(&mut self, reload: ReloadId, settings: &Settings, report: &mut Report) -> bool {
        let ids: Vec<ResourceId> = (0..self.resources.len())
            .filter(|&id| self.reconciler.reload_of(id) == Some(reload))
            .collect();
        let Some(&first) = ids.first() else { return true };
        let res = &self.resources[first];
        let started = Instant::now();
        let result = match res.push.clone() {
            Some(target) => self.push(first, &target, settings),
            None => {
                let cmd = res.reload_cmd.as_deref().unwrap_or_default();
                let timeout = ids.iter().map(|&id| self.resources[id].reload_cmd_timeout).max();
                process::reload(cmd, timeout.unwrap_or(Duration::ZERO), &settings.cancel)
            }
        };
        let res = &self.resources[first];
        let m = &settings.metrics;
        m.reload_seconds
            .get_or_create(&metrics::resource(&res.path))
            .observe(started.elapsed().as_secs_f64());
        let family = if res.push.is_some() { &m.pushes } else { &m.reloads };
        let outcome = if result.is_ok() { "ok" } else { "failed" };
        family.get_or_create(&metrics::outcome(&res.path, outcome)).inc();
        match result {
            Ok(()) => {
                for id in ids {
                    self.unconfirmed[id] = None;
                }
                true
            }
            Err(message) => {
                let failure = Failure {
                    resource: res.path.display().to_string(),
                    message,
                    fault: Fault::Transient,
                };
                log::error!("{failure}");
                report.failures.push(failure);
                false
            }
        }
    }

    /// Pushes push resource `id`'s last rendered membership to `target` and waits for every
    /// worker to confirm it.
    fn push(
        &mut self,
        id: ResourceId,
        target: &PushTarget,
        settings: &Settings,
    ) -> Result<(), String> {
        let res = &self.resources[id];
        let Some(live) = &self.live[id] else { return Ok(()) };
        let pushed =
            push::push(target, &live.membership, live.revision, res.push_timeout, &settings.cancel);
        match pushed {
            Ok(pushed) => {
                log::info!(
                    "{}: membership version {} ({}, revision {}) pushed to {target}; all {} workers have it",
                    res.path.display(),
                    pushed.version,
                    live.membership,
                    live.revision,
                    pushed.workers
                );
                self.pushed[id] = true;
                Ok(())
            }
            Err(e) => Err(format!("push failed: {e}")),
        }
    }

    /// Puts back the dest the server last loaded.
    fn roll_back(&mut self, id: ResourceId) {
        let dest = &self.resources[id].dest;
        match self.unconfirmed[id].take() {
            Some(Some(previous)) => match confd_apply::restore(dest, previous) {
                Ok(()) => log::warning!(
                    "{}: the reload failed: put back the previous {}, which the server runs",
                    self.resources[id].path.display(),
                    dest.display()
                ),
                Err(e) => log::error!(
                    "{}: the reload failed and the previous {} cannot be put back: {e}",
                    self.resources[id].path.display(),
                    dest.display()
                ),
            },
            Some(None) => log::warning!(
                "{}: the reload failed; {} did not exist before, so it stays",
                self.resources[id].path.display(),
                dest.display()
            ),
            None => {}
        }
    }

    fn tell(&self, notice: &Notice, settings: &Settings) {
        let name = |id: ResourceId| self.resources[id].path.display().to_string();
        let count = |family: &Family<ResourceLabel, Counter>, id: ResourceId| {
            family.get_or_create(&metrics::resource(&self.resources[id].path)).inc();
        };
        match *notice {
            Notice::Held { resource, .. } => count(&settings.metrics.held, resource),
            Notice::Retry { resource, .. } => count(&settings.metrics.retries, resource),
            _ => {}
        }
        match *notice {
            Notice::Held { resource, removing, of, hold_time } => log::warning!(
                "{}: held: this change would remove {removing} of the {of} keys it read last time \
                 (more than max_removal {}%), as a wiped or restored store would; {} and the \
                 server keep the last config. It is applied when the keys come back, once it has \
                 not changed for {hold_time:?} (hold_time), or now on SIGUSR1 (kill -USR1 {})",
                name(resource),
                max_removal(&self.resources[resource], settings),
                self.resources[resource].dest.display(),
                std::process::id()
            ),
            Notice::Released { resource, why } => {
                let why = match why {
                    Release::KeysBack => "the keys are back",
                    Release::Stable => "the removal has not changed for its hold_time",
                    Release::Operator => "SIGUSR1",
                };
                log::info!("{}: hold released ({why})", name(resource))
            }
            Notice::Retry { .. } if self.once => {}
            Notice::Retry { resource, attempt, after } => {
                log::warning!("{}: trying again in {after:?} (retry {attempt})", name(resource))
            }
            Notice::ReloadDeferred { reload, after } => {
                let first = (0..self.resources.len())
                    .find(|&id| self.reconciler.reload_of(id) == Some(reload));
                if let Some(id) = first {
                    log::info!("{}: reload deferred by {after:?} (min_reload_interval)", name(id));
                }
            }
        }
    }
}

/// The reconciler's view of a resource: its reload command or push endpoint (none with
/// `-sync-only` or `-noop`, which never reload or push) and its pacing and hold settings, or
/// the global ones. A push counts as the resource's reload.
fn policy(res: &TemplateResource, settings: &Settings) -> Policy {
    let defaults = settings.reconcile;
    let reloads = !(settings.options.sync_only || settings.options.noop);
    let reload = match &res.push {
        Some(target) => Some(format!("push to {target}")),
        None => res.reload_cmd.clone(),
    };
    Policy {
        reload: reload.filter(|_| reloads),
        min_reload_interval: res.min_reload_interval.unwrap_or(defaults.min_reload_interval),
        max_removal: Some(f64::from(max_removal(res, settings)) / 100.0),
        hold_time: res.hold_time.unwrap_or(defaults.hold_time),
    }
}

fn max_removal(res: &TemplateResource, settings: &Settings) -> u8 {
    res.max_removal.unwrap_or(settings.reconcile.max_removal)
}

//! The reconciler with synthetic time: every decision, no sleeps.

use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn policy(reload: Option<&str>) -> Policy {
    Policy {
        reload: reload.map(str::to_string),
        min_reload_interval: Duration::ZERO,
        max_removal: None,
        hold_time: Duration::from_secs(300),
    }
}

/// A reconciler and a clock that starts at an arbitrary instant.
struct Sim {
    rec: Reconciler,
    t0: Instant,
    now: Instant,
}

impl Sim {
    fn new(wait: WaitSpec, policies: Vec<Policy>) -> Sim {
        let t0 = Instant::now();
        Sim { rec: Reconciler::new(wait, policies), t0, now: t0 }
    }

    fn at(&mut self, millis: u64) -> &mut Self {
        self.now = self.t0 + ms(millis);
        self
    }

    fn change(&mut self, resource: ResourceId, keys: Option<usize>) -> &mut Self {
        self.rec.handle(Event::Changed { resource, keys }, self.now);
        self
    }

    fn poll(&mut self) -> Vec<Action> {
        self.rec.poll(self.now)
    }

    fn rendered(&mut self, resource: ResourceId, outcome: RenderOutcome) -> &mut Self {
        self.rec.handle(Event::Rendered { resource, outcome }, self.now);
        self
    }

    fn reloaded(&mut self, reload: ReloadId, ok: bool) -> &mut Self {
        self.rec.handle(Event::Reloaded { reload, ok }, self.now);
        self
    }

    /// Milliseconds from the start to the next wakeup.
    fn wakeup(&self) -> Option<u64> {
        self.rec.next_wakeup().map(|t| (t - self.t0).as_millis() as u64)
    }

    /// Renders every resource `poll` asks for with `outcome` and returns what it asked for.
    fn render_all(&mut self, outcome: RenderOutcome) -> Vec<ResourceId> {
        let mut rendered = Vec::new();
        for action in self.poll() {
            if let Action::Render(ids) = action {
                for id in ids {
                    self.rendered(id, outcome);
                    rendered.push(id);
                }
            }
        }
        rendered
    }
}

fn renders(actions: &[Action]) -> Vec<ResourceId> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Render(ids) => Some(ids.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn reloads(actions: &[Action]) -> Vec<ReloadId> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Reload(id) => Some(*id),
            _ => None,
        })
        .collect()
}

const WINDOW: WaitSpec =
    WaitSpec { quiet: Duration::from_millis(200), max: Duration::from_secs(1) };

#[test]
fn a_batch_renders_after_the_quiet_period() {
    let mut s = Sim::new(WINDOW, vec![policy(None), policy(None)]);
    s.at(0).change(0, None);
    assert_eq!(s.wakeup(), Some(200));
    assert!(s.at(100).poll().is_empty());
    s.change(1, None);
    assert_eq!(s.wakeup(), Some(300), "each change restarts the quiet period");
    assert!(s.at(299).poll().is_empty());
    assert_eq!(renders(&s.at(300).poll()), [0, 1], "one pass for the whole batch");
}

#[test]
fn a_steady_stream_renders_at_the_maximum_wait() {
    let mut s = Sim::new(WINDOW, vec![policy(None)]);
    for t in (0..1000).step_by(100) {
        s.at(t).change(0, None);
        assert!(renders(&s.poll()).is_empty(), "at {t} ms");
    }
    assert_eq!(s.wakeup(), Some(1000));
    assert_eq!(renders(&s.at(1000).poll()), [0]);
    assert_eq!(s.wakeup(), None, "nothing left to do");
}

#[test]
fn without_a_window_every_change_renders_at_once() {
    let mut s = Sim::new(WaitSpec::DISABLED, vec![policy(None)]);
    s.at(0).change(0, None);
    assert_eq!(renders(&s.poll()), [0]);
}

#[test]
fn only_dirty_resources_render_and_a_shared_reload_runs_once() {
    let mut s =
        Sim::new(WaitSpec::DISABLED, vec![policy(Some("r")), policy(Some("r")), policy(Some("q"))]);
    s.at(0).change(0, None).change(1, None);
    let actions = s.poll();
    assert_eq!(renders(&actions), [0, 1]);
    assert!(reloads(&actions).is_empty(), "reloads wait for the renders' outcomes");
    s.rendered(0, RenderOutcome::Updated).rendered(1, RenderOutcome::Updated);
    assert_eq!(reloads(&s.poll()), [0]);
    s.reloaded(0, true);
    assert!(s.poll().is_empty());
}

#[test]
fn an_unchanged_render_reloads_nothing() {
    let mut s = Sim::new(WaitSpec::DISABLED, vec![policy(Some("r"))]);
    s.at(0).change(0, None);
    assert_eq!(s.render_all(RenderOutcome::Unchanged), [0]);
    assert!(s.poll().is_empty());
}

#[test]
fn nothing_is_handed_out_while_outcomes_are_outstanding() {
    let mut s = Sim::new(WaitSpec::DISABLED, vec![policy(Some("r"))]);
    s.at(0).change(0, None);
    assert_eq!(renders(&s.poll()), [0]);
    s.change(0, None);
    assert!(renders(&s.poll()).is_empty(), "the first render has not been reported");
    s.rendered(0, RenderOutcome::Updated);
    assert_eq!(renders(&s.poll()), [0], "the change that came meanwhile renders next");
}

#[test]
fn reloads_respect_the_minimum_interval_and_are_deferred_not_dropped() {
    let mut p = policy(Some("r"));
    p.min_reload_interval = Duration::from_secs(2);
    let mut s = Sim::new(WaitSpec::DISABLED, vec![p]);
    s.at(0).change(0, None).render_all(RenderOutcome::Updated);
    assert_eq!(reloads(&s.poll()), [0]);
    s.reloaded(0, true);
    // Changes at 0.5 s and 1 s: their reload is deferred to 2 s, once.
    s.at(500).change(0, None).render_all(RenderOutcome::Updated);
    let actions = s.poll();
    assert!(reloads(&actions).is_empty());
    assert!(
        actions.contains(&Action::Notice(Notice::ReloadDeferred { reload: 0, after: ms(1500) }))
    );
    s.at(1000).change(0, None).render_all(RenderOutcome::Updated);
    assert!(s.poll().is_empty(), "deferred once, announced once");
    assert_eq!(s.wakeup(), Some(2000));
    assert_eq!(reloads(&s.at(2000).poll()), [0]);
    s.reloaded(0, true);
    assert_eq!(s.wakeup(), None);
}

#[test]
fn one_change_every_100_ms_for_10_s_reloads_at_most_6_times_with_a_2_s_interval() {
    let mut p = policy(Some("r"));
    p.min_reload_interval = Duration::from_secs(2);
    let mut s = Sim::new(WINDOW, vec![p]);
    let mut reload_times = Vec::new();
    let mut t = 0;
    while t <= 12_000 {
        if t <= 10_000 && t % 100 == 0 {
            s.at(t).change(0, None);
        }
        s.at(t);
        for action in s.poll() {
            match action {
                Action::Render(ids) => {
                    for id in ids {
                        s.rendered(id, RenderOutcome::Updated);
                    }
                }
                Action::Reload(r) => {
                    reload_times.push(t);
                    s.reloaded(r, true);
                }
                _ => {}
            }
        }
        // The reload that follows the renders comes from the next poll at the same time.
        for action in s.poll() {
            if let Action::Reload(r) = action {
                reload_times.push(t);
                s.reloaded(r, true);
            }
        }
        t += 10;
    }
    assert!(reload_times.len() <= 6, "{reload_times:?}");
    let last = *reload_times.last().unwrap();
    assert!((10_000..=12_500).contains(&last), "the last change is loaded: {reload_times:?}");
    assert!(reload_times.windows(2).all(|w| w[1] - w[0] >= 2000), "{reload_times:?}");
}

#[test]
fn a_failed_check_is_retried_with_backoff_until_it_succeeds() {
    let mut s = Sim::new(WaitSpec::DISABLED, vec![policy(Some("r"))]);
    s.at(0).change(0, None);
    s.render_all(RenderOutcome::Failed { retry: true });
    let actions = s.poll();
    assert!(actions.contains(&Action::Notice(Notice::Retry {
        resource: 0,
        attempt: 1,
        after: ms(1000)
    })));
    assert_eq!(s.wakeup(), Some(1000));
    assert_eq!(s.at(1000).render_all(RenderOutcome::Failed { retry: true }), [0]);
    assert_eq!(s.wakeup(), Some(3000), "the wait doubles");
    assert_eq!(s.at(3000).render_all(RenderOutcome::Failed { retry: true }), [0]);
    assert_eq!(s.wakeup(), Some(7000));
    assert_eq!(s.at(7000).render_all(RenderOutcome::Updated), [0]);
    assert_eq!(reloads(&s.poll()), [0]);
    s.reloaded(0, true);
    assert_eq!(s.wakeup(), None, "done: no more retries");
}

#[test]
fn backoff_is_capped() {
    assert_eq!(backoff(1), ms(1000));
    assert_eq!(backoff(5), ms(16_000));
    assert_eq!(backoff(6), RETRY_CAP);
    assert_eq!(backoff(u32::MAX), RETRY_CAP);
}

#[test]
fn a_change_replaces_a_pending_retry_and_restarts_the_backoff() {
    let mut s = Sim::new(WaitSpec::DISABLED, vec![policy(None)]);
    s.at(0).change(0, None).render_all(RenderOutcome::Failed { retry: true });
    s.at(1000).render_all(RenderOutcome::Failed { retry: true });
    assert_eq!(s.wakeup(), Some(3000));
    s.at(1500).change(0, None);
    assert_eq!(s.render_all(RenderOutcome::Failed { retry: true }), [0], "the change renders now");
    assert_eq!(s.wakeup(), Some(2500), "from the first step again");
}

#[test]
fn a_template_error_waits_for_new_input() {
    let mut s = Sim::new(WaitSpec::DISABLED, vec![policy(None)]);
    s.at(0).change(0, None).render_all(RenderOutcome::Failed { retry: false });
    assert_eq!(s.wakeup(), None);
    assert!(s.at(60_000).poll().is_empty());
}

#[test]
fn a_failed_reload_rolls_back_and_retries_until_the_reload_works() {
    let mut s =
        Sim::new(WaitSpec::DISABLED, vec![policy(Some("r")), policy(Some("r")), policy(None)]);
    s.at(0).change(0, None).change(1, None).change(2, None);
    s.render_all(RenderOutcome::Updated);
    assert_eq!(reloads(&s.poll()), [0]);
    s.reloaded(0, false);
    let actions = s.poll();
    assert_eq!(actions[0], Action::Rollback(vec![0, 1]), "only the resources of that reload");
    assert_eq!(s.wakeup(), Some(1000));
    // The retry renders, swaps and reloads again; the reload fails again: rolled back again,
    // later.
    assert_eq!(s.at(1000).render_all(RenderOutcome::Updated), [0, 1]);
    assert_eq!(reloads(&s.poll()), [0]);
    s.reloaded(0, false);
    assert_eq!(s.poll()[0], Action::Rollback(vec![0, 1]));
    assert_eq!(s.wakeup(), Some(3000), "the backoff grows across rollbacks");
    assert_eq!(s.at(3000).render_all(RenderOutcome::Updated), [0, 1]);
    assert_eq!(reloads(&s.poll()), [0]);
    s.reloaded(0, true);
    assert!(s.poll().is_empty());
    assert_eq!(s.wakeup(), None);
}

fn fail_static() -> Policy {
    Policy { max_removal: Some(0.5), ..policy(Some("r")) }
}

/// A resource that applied a render of `keys` keys at time 0.
fn applied(keys: usize) -> Sim {
    let mut s = Sim::new(WaitSpec::DISABLED, vec![fail_static()]);
    s.at(0).change(0, Some(keys)).render_all(RenderOutcome::Updated);
    s.poll();
    s.reloaded(0, true);
    s
}

#[test]
fn a_wipe_is_held_and_said_once() {
    let mut s = applied(40);
    s.at(100).change(0, Some(0));
    let actions = s.poll();
    assert!(renders(&actions).is_empty());
    assert_eq!(
        actions,
        [Action::Notice(Notice::Held {
            resource: 0,
            removing: 40,
            of: 40,
            hold_time: Duration::from_secs(300)
        })]
    );
    assert_eq!(s.rec.held(), BTreeSet::from([0]));
    s.at(200).change(0, Some(0));
    assert!(s.poll().is_empty(), "the same removal: no new notice");
}

#[test]
fn ordinary_removals_are_not_held() {
    let mut s = applied(40);
    s.at(100).change(0, Some(38));
    assert_eq!(s.render_all(RenderOutcome::Updated), [0], "two of forty");
    let mut s = applied(3);
    s.at(100).change(0, Some(1));
    assert_eq!(s.render_all(RenderOutcome::Updated), [0], "two keys are never held");
    let mut s = applied(3);
    s.at(100).change(0, Some(0));
    assert!(renders(&s.poll()).is_empty(), "three of three are");
    let mut s = applied(40);
    s.at(100).change(0, Some(20));
    assert_eq!(s.render_all(RenderOutcome::Updated), [0], "exactly half is within 50%");
}

#[test]
fn a_hold_ends_when_the_keys_come_back() {
    let mut s = applied(40);
    s.at(100).change(0, Some(0));
    s.poll();
    s.at(200).change(0, Some(39));
    let actions = s.poll();
    assert_eq!(
        actions[0],
        Action::Notice(Notice::Released { resource: 0, why: Release::KeysBack })
    );
    assert_eq!(renders(&actions), [0]);
}

#[test]
fn a_stable_hold_is_applied_after_the_hold_time() {
    let mut s = applied(40);
    s.at(100).change(0, Some(5));
    s.poll();
    assert_eq!(s.wakeup(), Some(300_100));
    // A further change of the count starts the hold time again.
    s.at(60_000).change(0, Some(3));
    assert!(renders(&s.poll()).is_empty());
    assert_eq!(s.wakeup(), Some(360_000));
    let actions = s.at(360_000).poll();
    assert_eq!(actions[0], Action::Notice(Notice::Released { resource: 0, why: Release::Stable }));
    assert_eq!(renders(&actions), [0]);
    s.rendered(0, RenderOutcome::Updated);
    // The new count is the new baseline: a small removal from it is not held.
    s.poll();
    s.reloaded(0, true);
    s.at(400_000).change(0, Some(2));
    assert_eq!(s.render_all(RenderOutcome::Updated), [0]);
}

#[test]
fn the_operator_releases_a_hold_at_once() {
    let mut s = applied(40);
    s.at(100).change(0, Some(0));
    s.poll();
    s.rec.handle(Event::Release, s.now);
    let actions = s.at(150).poll();
    assert_eq!(
        actions[0],
        Action::Notice(Notice::Released { resource: 0, why: Release::Operator })
    );
    assert_eq!(renders(&actions), [0]);
}

#[test]
fn the_first_render_is_never_held_and_uncounted_resources_never_are() {
    let mut s = Sim::new(WaitSpec::DISABLED, vec![fail_static()]);
    s.at(0).change(0, Some(0));
    assert_eq!(s.render_all(RenderOutcome::Updated), [0]);
    let mut s = Sim::new(WaitSpec::DISABLED, vec![fail_static()]);
    s.at(0).change(0, None).render_all(RenderOutcome::Updated);
    s.poll();
    s.reloaded(0, true);
    s.at(10).change(0, None);
    assert_eq!(s.render_all(RenderOutcome::Updated), [0]);
}

#[test]
fn a_held_resource_does_not_hold_up_the_others() {
    let mut s = Sim::new(WaitSpec::DISABLED, vec![fail_static(), policy(Some("q"))]);
    s.at(0).change(0, Some(10)).change(1, None).render_all(RenderOutcome::Updated);
    assert_eq!(reloads(&s.poll()), [0, 1]);
    s.reloaded(0, true).reloaded(1, true);
    s.at(100).change(0, Some(0)).change(1, None);
    assert_eq!(renders(&s.poll()), [1]);
}

#[test]
fn clock_extremes_do_not_panic() {
    let huge = WaitSpec { quiet: Duration::MAX, max: Duration::MAX };
    let mut p = policy(Some("r"));
    p.min_reload_interval = Duration::MAX;
    p.hold_time = Duration::MAX;
    p.max_removal = Some(0.0);
    let mut s = Sim::new(huge, vec![p]);
    s.at(0).change(0, Some(10));
    assert!(s.poll().is_empty());
    assert_eq!(s.rec.next_wakeup(), None, "never, rather than an overflow");
}

#[test]
fn a_flush_renders_the_pending_batch_at_once() {
    let mut s = Sim::new(WINDOW, vec![policy(None), policy(None)]);
    s.at(0).change(0, None).change(1, None);
    s.rec.handle(Event::Flush, s.now);
    assert_eq!(s.wakeup(), Some(0));
    assert_eq!(renders(&s.poll()), [0, 1]);
    s.rendered(0, RenderOutcome::Unchanged).rendered(1, RenderOutcome::Unchanged);
    s.at(10).change(0, None);
    assert!(renders(&s.poll()).is_empty(), "the next change waits for the window again");
}

#[test]
fn a_flush_renders_at_once_but_reloads_keep_their_interval() {
    let mut p = policy(Some("r"));
    p.min_reload_interval = Duration::from_secs(2);
    let mut s = Sim::new(WINDOW, vec![p]);
    s.at(0).change(0, None);
    s.rec.handle(Event::Flush, s.now);
    s.render_all(RenderOutcome::Updated);
    assert_eq!(reloads(&s.poll()), [0]);
    s.reloaded(0, true);
    s.at(100).change(0, None);
    s.rec.handle(Event::Flush, s.now);
    assert_eq!(s.render_all(RenderOutcome::Updated), [0]);
    assert!(reloads(&s.poll()).is_empty(), "deferred to 2 s all the same");
    assert_eq!(s.wakeup(), Some(2000));
}

#[test]
fn a_retry_never_renders_past_a_hold() {
    // A swap awaits its deferred reload when a wipe is held; the reload then fails: the file
    // is rolled back, and nothing renders the empty store until the hold ends.
    let mut p = fail_static();
    p.min_reload_interval = Duration::from_secs(1);
    let mut s = Sim::new(WaitSpec::DISABLED, vec![p]);
    s.at(0).change(0, Some(10)).render_all(RenderOutcome::Updated);
    assert_eq!(reloads(&s.poll()), [0]);
    s.reloaded(0, true);
    s.at(500).change(0, Some(11)).render_all(RenderOutcome::Updated);
    assert!(reloads(&s.poll()).is_empty(), "deferred to 1 s");
    s.at(600).change(0, Some(0));
    assert!(renders(&s.poll()).is_empty(), "held");
    let actions = s.at(1000).poll();
    assert_eq!(reloads(&actions), [0]);
    s.reloaded(0, false);
    assert_eq!(s.poll()[0], Action::Rollback(vec![0]));
    assert!(renders(&s.at(60_000).poll()).is_empty(), "no retry renders the held change");
    assert_eq!(s.rec.held(), BTreeSet::from([0]));
}

#[test]
fn a_hold_whose_count_just_changed_is_judged_again_before_it_is_released() {
    let mut p = fail_static();
    p.hold_time = Duration::from_secs(10);
    let mut s = Sim::new(WINDOW, vec![p]);
    s.at(0).change(0, Some(40));
    s.rec.handle(Event::Flush, s.now);
    s.render_all(RenderOutcome::Updated);
    s.poll();
    s.reloaded(0, true);
    s.at(1000).change(0, Some(5));
    s.at(1200).poll();
    assert_eq!(s.rec.held(), BTreeSet::from([0]));
    // Just before the hold time is over, the count changes again: not "stable".
    s.at(11_150).change(0, Some(0));
    assert!(renders(&s.at(11_200).poll()).is_empty());
    s.at(11_350).poll();
    assert_eq!(s.wakeup(), Some(21_350), "the hold time starts again");
}

#[test]
fn carry_over_keeps_holds_baselines_and_reload_times_across_a_reread() {
    let mut p = fail_static();
    p.min_reload_interval = Duration::from_secs(2);
    let mut s = Sim::new(WaitSpec::DISABLED, vec![p.clone()]);
    s.at(0).change(0, Some(40)).render_all(RenderOutcome::Updated);
    assert_eq!(reloads(&s.poll()), [0]);
    s.reloaded(0, true);
    s.at(100).change(0, Some(0));
    assert!(renders(&s.poll()).is_empty(), "held");
    // The resources are re-read: another resource first, the held one second.
    let mut fresh = Reconciler::new(WaitSpec::DISABLED, vec![policy(Some("q")), p]);
    fresh.carry_over(&s.rec, |id| (id == 1).then_some(0));
    assert_eq!(fresh.held(), BTreeSet::from([1]));
    fresh.handle(Event::Changed { resource: 1, keys: Some(0) }, s.t0 + ms(200));
    assert!(renders(&fresh.poll(s.t0 + ms(200))).is_empty(), "still held against 40");
    fresh.handle(Event::Changed { resource: 1, keys: Some(40) }, s.t0 + ms(300));
    let actions = fresh.poll(s.t0 + ms(300));
    assert_eq!(renders(&actions), [1]);
    fresh.handle(Event::Rendered { resource: 1, outcome: RenderOutcome::Updated }, s.t0 + ms(300));
    assert!(reloads(&fresh.poll(s.t0 + ms(300))).is_empty(), "the last reload ran at 0");
    assert_eq!(fresh.next_wakeup(), Some(s.t0 + ms(2000)));
}

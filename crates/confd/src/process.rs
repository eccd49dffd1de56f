//! Processing one resource — fetch → render → stage → check → swap — and running a reload
//! command. What to process and when is the reconciler's (`crate::driver`).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use confd_apply::{apply, run_command, Cancel, Difference, Options, Outcome, Request, Staged};
use confd_core::funcs::safe::Rejections;
use confd_core::funcs::{confd_funcs_for, Host, RootListing, RootNotes};
use confd_core::membership::Membership;
use confd_core::resource::TemplateResource;

use crate::backend::{ResourceStore, Values};
use crate::log;

/// What a resource needs from the global configuration to be processed.
pub struct Settings {
    pub options: Options,
    pub host: Arc<dyn Host>,
    /// Set by SIGTERM/SIGINT: the pass stops, a running command is killed.
    pub cancel: Cancel,
    /// What renders left out, so each is warned about once.
    pub notices: Notices,
    /// The time budget of one render (`-render-timeout`), unless a resource sets its own;
    /// zero = none.
    pub render_timeout: Duration,
    /// What a resource's reload pacing and fail-static hold fall back to.
    pub reconcile: crate::config::ReconcileDefaults,
    /// What is counted (served with `-metrics-addr`).
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
    /// Liveness (every loop beats) and readiness, for `/health` and `/ready`.
    pub status: std::sync::Arc<confd_metrics::Status>,
    /// How `ls "/"` and `lsdir "/"` answer (`-fix-root-listing`).
    pub root_listing: RootListing,
    /// `-onetime`: the last render's key store is left for the exit to release.
    pub until_exit: UntilExit,
}

/// What `-onetime` leaves for the process's exit to release: the last render's template with
/// its key store. Freeing a store one allocation at a time costs about 5 % of a run at
/// 100,000 services (400,000 keys and values); the exit gives the memory back at once. Only
/// the last render is kept: a render first frees the one kept before it, so memory peaks as
/// it would if nothing were kept. Daemons keep nothing (`UntilExit::default()`).
#[derive(Default)]
pub struct UntilExit {
    enabled: bool,
    last: Mutex<Option<gotmpl::Template>>,
}

impl UntilExit {
    /// Keeping the last render for the exit.
    pub fn enabled() -> UntilExit {
        UntilExit { enabled: true, last: Mutex::default() }
    }

    /// Frees the render kept so far.
    fn free_kept(&self) {
        drop(self.last.lock().unwrap_or_else(PoisonError::into_inner).take());
    }

    /// Keeps `done` when enabled; else frees it now.
    fn keep(&self, done: gotmpl::Template) {
        if self.enabled {
            *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(done);
        }
    }

    /// Called right before the process exits: the kept render is not freed piece by piece.
    pub fn leave_to_exit(&self) {
        let kept = self.last.lock().unwrap_or_else(PoisonError::into_inner).take();
        std::mem::forget(kept);
    }
}

/// Whose fault a failure is, which decides whether trying again without a change can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The template or the data it was given (a template error, a missing key, a render over
    /// its budget): the same input fails the same way.
    Input,
    /// The system (reading the store, writing dest, the check, the reload): may work later.
    Transient,
}

/// Why a resource failed; the text names the resource file and what went wrong.
#[derive(Debug)]
pub struct Failure {
    pub resource: String,
    pub message: String,
    pub fault: Fault,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.resource, self.message)
    }
}

/// What processing one resource did to its dest.
#[derive(Debug)]
pub enum Processed {
    /// Replaced; `previous` is what it was (`None`: it did not exist), to put back if the
    /// server cannot load the new file.
    Updated { previous: Option<confd_apply::Previous> },
    /// Already as it should be (or noop mode).
    Unchanged,
}

/// Zero means "no timeout" in the resource file.
fn effective_timeout(t: Duration) -> Duration {
    if t.is_zero() {
        Duration::MAX
    } else {
        t
    }
}

/// Runs a reload command under its timeout (zero: none).
pub fn reload(cmd: &str, timeout: Duration, cancel: &Cancel) -> Result<(), String> {
    log::debug!("Running {cmd}");
    match run_command(cmd, effective_timeout(timeout), Some(cancel)) {
        Ok(out) => {
            log::debug!("{:?}", out.output);
            Ok(())
        }
        Err(e) => {
            log::error!("{:?}", e.output());
            Err(format!("reload_cmd {cmd:?} failed: {e}"))
        }
    }
}

/// A push resource's rendered membership and the store revision it was read at.
#[derive(Debug, Clone)]
pub struct Live {
    pub membership: Membership,
    pub revision: u64,
}

/// Renders one resource and applies it to its dest (stage, compare, check, swap); logs as
/// confd does. The render streams into the stage file. A push resource's render must be a
/// valid membership document; dest gets its JSON, and the membership is returned for the
/// push. A failure is logged and returned.
pub fn process(
    res: &TemplateResource,
    values: &dyn Values,
    settings: &Settings,
) -> Result<(Processed, Option<Live>), Failure> {
    let fail = |(message, fault): (String, Fault)| {
        let failure = Failure { resource: res.path.display().to_string(), message, fault };
        log::error!("{failure}");
        failure
    };
    let request = request_for(res, settings);
    let transient = |e: confd_apply::ApplyError| (e.to_string(), Fault::Transient);
    settings.until_exit.free_kept();
    match res.push {
        None => {
            let render = Render::prepare(res, values, settings).map_err(fail)?;
            let mut staged = Staged::create(&request).map_err(transient).map_err(fail)?;
            render.execute(res, settings, &mut staged).map_err(fail)?;
            let processed = apply_to_dest(res, settings, || staged.apply()).map_err(fail)?;
            Ok((processed, None))
        }
        Some(_) => {
            let mut text = Vec::new();
            Render::prepare(res, values, settings)
                .and_then(|render| render.execute(res, settings, &mut text))
                .map_err(fail)?;
            let live = membership(res, &text, values.revision()).map_err(fail)?;
            let json = live.membership.to_json();
            let processed =
                apply_to_dest(res, settings, || apply(&request, json.as_bytes())).map_err(fail)?;
            Ok((processed, Some(live)))
        }
    }
}

/// A push resource's rendered text as a membership: any line that is not valid rejects the
/// whole render, so a template mistake never reaches the server half applied.
fn membership(res: &TemplateResource, text: &[u8], revision: u64) -> Result<Live, (String, Fault)> {
    let invalid = |why: String| {
        let message = format!(
            "{} rendered an invalid membership, which is not pushed (the server keeps the \
             last one): {why}",
            res.src.display()
        );
        (message, Fault::Input)
    };
    let text = std::str::from_utf8(text).map_err(|e| invalid(e.to_string()))?;
    let membership = Membership::parse(text).map_err(|e| invalid(e.to_string()))?;
    Ok(Live { membership, revision })
}

fn request_for<'a>(res: &'a TemplateResource, settings: &'a Settings) -> Request<'a> {
    Request {
        dest: &res.dest,
        mode: res.mode,
        uid: res.uid,
        gid: res.gid,
        check_cmd: res.check_cmd.as_deref(),
        check_timeout: effective_timeout(res.check_cmd_timeout),
        options: settings.options,
        cancel: Some(&settings.cancel),
    }
}

/// Runs the compare-check-swap of a staged dest and logs what it found, as confd does.
fn apply_to_dest(
    res: &TemplateResource,
    settings: &Settings,
    apply: impl FnOnce() -> Result<Outcome, confd_apply::ApplyError>,
) -> Result<Processed, (String, Fault)> {
    log::debug!("Comparing candidate config to {}", res.dest.display());
    match apply() {
        Ok(Outcome::InSync) => {
            if settings.options.noop {
                log::warning!("Noop mode enabled. {} will not be modified", res.dest.display());
            }
            log::debug!("Target config {} in sync", res.dest.display());
            Ok(Processed::Unchanged)
        }
        Ok(Outcome::WouldChange { differences, diff }) => {
            log_differences(&res.dest, &differences);
            log::warning!("Noop mode enabled. {} will not be modified", res.dest.display());
            if !diff.is_empty() {
                log::info!("Changes {} would get:\n{}", res.dest.display(), diff.trim_end());
            }
            Ok(Processed::Unchanged)
        }
        Ok(Outcome::Updated { differences, check_output, previous }) => {
            log_differences(&res.dest, &differences);
            log::info!("Target config {} out of sync", res.dest.display());
            if let Some(out) = check_output {
                log::debug!("check_cmd output: {out:?}");
            }
            log::info!("Target config {} has been updated", res.dest.display());
            Ok(Processed::Updated { previous })
        }
        Err(confd_apply::ApplyError::Check(e)) => {
            settings
                .metrics
                .check_failures
                .get_or_create(&crate::metrics::resource(&res.path))
                .inc();
            // The check only runs for a dest that differs (confd logs this before checking).
            log::info!("Target config {} out of sync", res.dest.display());
            log::error!("{:?}", e.output());
            let message = format!("Config check failed for {}: {e}", res.dest.display());
            Err((message, Fault::Transient))
        }
        Err(e) => Err((e.to_string(), Fault::Transient)),
    }
}

/// A resource's template, parsed with the functions over its keys, ready to execute.
struct Render {
    tmpl: gotmpl::Template,
    name: String,
    /// Keys the store left out (not in clean form), reported with the render's own notices.
    left_out: Vec<String>,
    rejections: Rejections,
    root_notes: RootNotes,
}

impl Render {
    /// Fetches the resource's keys and parses its template; errors name the template file
    /// and (through the engine) its line and column.
    fn prepare(
        res: &TemplateResource,
        values: &dyn Values,
        settings: &Settings,
    ) -> Result<Render, (String, Fault)> {
        log::debug!("Retrieving keys from store");
        log::debug!("Key prefix set to {}", res.prefix);
        let ResourceStore { store, left_out } =
            values.store(res).map_err(|e| (e, Fault::Transient))?;
        let text = match std::fs::read(&res.src) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err((format!("Missing template: {}", res.src.display()), Fault::Input))
            }
            Err(e) => {
                let message = format!("cannot read template {}: {e}", res.src.display());
                return Err((message, Fault::Transient));
            }
        };
        log::debug!("Compiling source template {}", res.src.display());
        let name = base_name(&res.src);
        let rejections = Rejections::new();
        let root_notes = RootNotes::default();
        let funcs = confd_funcs_for(
            store,
            settings.host.clone(),
            rejections.clone(),
            settings.root_listing,
            root_notes.clone(),
        );
        let budget = res.render_timeout.unwrap_or(settings.render_timeout);
        let tmpl = gotmpl::Template::new(&name)
            .with_limits(render_limits(budget, &settings.cancel))
            .funcs(funcs)
            .parse_bytes(&text)
            .map_err(|e| {
                (format!("Unable to process template {}, {e}", res.src.display()), Fault::Input)
            })?;
        Ok(Render { tmpl, name, left_out, rejections, root_notes })
    }

    /// Executes the template into `to`; errors name the failing call. Keys that are not in
    /// clean form and entries the checking functions reject are left out and reported once.
    fn execute(
        self,
        res: &TemplateResource,
        settings: &Settings,
        to: &mut dyn std::io::Write,
    ) -> Result<(), (String, Fault)> {
        let executed = self.tmpl.execute_to(to, &gotmpl::Value::Missing).map_err(|e| {
            let fault = match e.kind() {
                gotmpl::ErrorKind::Write => Fault::Transient,
                _ => Fault::Input,
            };
            (e.to_string(), fault)
        });
        let name = &self.name;
        let mut notices = self.left_out;
        notices.extend(self.rejections.take().iter().map(|r| format!("{name}: {r}")));
        notices.extend(self.root_notes.take().iter().map(|n| format!("{name}: {n}")));
        settings.notices.report(&res.path, notices);
        settings.until_exit.keep(self.tmpl);
        executed
    }
}

/// The engine's default limits, and an interrupt that stops the render when its time budget
/// (`render_timeout`; zero = none) is spent or confd is told to stop (SIGTERM/SIGINT).
fn render_limits(budget: Duration, cancel: &Cancel) -> gotmpl::Limits {
    let deadline = (!budget.is_zero()).then(|| Instant::now().checked_add(budget)).flatten();
    let cancel = cancel.clone();
    let interrupt = gotmpl::Interrupt::new(move || {
        if cancel.is_cancelled() {
            return Some("confd is stopping".into());
        }
        let late = deadline.is_some_and(|d| Instant::now() >= d);
        late.then(|| {
            format!("the render took longer than its budget of {budget:?} (render_timeout)")
        })
    });
    gotmpl::Limits { interrupt: Some(interrupt), ..gotmpl::Limits::default() }
}

/// Warnings about what a render left out, each logged once while it persists: a bad entry
/// is named when it appears (again), not on every render in watch mode.
#[derive(Default)]
pub struct Notices(Mutex<HashMap<PathBuf, HashSet<String>>>);

impl Notices {
    fn report(&self, resource: &Path, current: Vec<String>) {
        let mut seen = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let previous = seen.remove(resource).unwrap_or_default();
        let mut now = HashSet::with_capacity(current.len());
        for notice in current {
            if !previous.contains(&notice) && !now.contains(&notice) {
                log::warning!("{}: {notice}", resource.display());
            }
            now.insert(notice);
        }
        if !now.is_empty() {
            seen.insert(resource.to_path_buf(), now);
        }
    }
}

fn base_name(p: &Path) -> String {
    p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

fn log_differences(dest: &Path, differences: &[Difference]) {
    for d in differences {
        match d {
            Difference::Missing => log::debug!("{} does not exist yet", dest.display()),
            Difference::Owner { field, is, should_be } => {
                log::info!("{} has {field} {is} should be {should_be}", dest.display())
            }
            Difference::Mode { is, should_be } => {
                log::info!(
                    "{} has mode {} should be {}",
                    dest.display(),
                    go_mode(*is),
                    go_mode(*should_be)
                )
            }
            Difference::Contents => log::info!("{} has different contents", dest.display()),
        }
    }
}

/// Go's `os.FileMode.String()` for permission bits: `-rw-r--r--`.
fn go_mode(mode: u32) -> String {
    format!("-{}", confd_core::resource::rwx(mode))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gotmpl::{Function, Signature, Type, Value};

    /// A template holding `witness`, as a render's template holds its key store.
    fn holding(witness: &Arc<()>) -> gotmpl::Template {
        let held = witness.clone();
        let f = Function::new(Signature::new(vec![], Type::String), move |_| {
            let _ = &held;
            Ok(Value::from(""))
        });
        gotmpl::Template::new("t").func("held", f)
    }

    #[test]
    fn until_exit_keeps_only_the_last_render_and_daemons_keep_none() {
        let witness = Arc::new(());
        let onetime = UntilExit::enabled();
        onetime.keep(holding(&witness));
        assert_eq!(Arc::strong_count(&witness), 2, "kept for the exit");
        onetime.free_kept();
        assert_eq!(Arc::strong_count(&witness), 1, "freed before the next render");
        let daemon = UntilExit::default();
        daemon.keep(holding(&witness));
        assert_eq!(Arc::strong_count(&witness), 1, "a daemon frees at once");
        onetime.keep(holding(&witness));
        onetime.leave_to_exit();
        assert_eq!(Arc::strong_count(&witness), 2, "left to the exit, not freed");
    }
}

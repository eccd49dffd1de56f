//! Helpers of the tests against real etcd: resources, the confd command line, waits on what
//! can be observed (dest files, reload markers, the log), and etcd's JSON gateway for fast
//! writes.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use testkit::wait_until;

use super::{Daemon, Sandbox};

// ---------------------------------------------------------------------------------------------
// Helpers: resources, commands, observations.

/// A template listing every key `glob` matches as `key=value` lines.
pub fn listing_template(glob: &str) -> String {
    format!("{{{{range gets \"{glob}\"}}}}{{{{.Key}}}}={{{{.Value}}}}\n{{{{end}}}}")
}

/// What [`listing_template`] renders for `kvs` (in key order, as etcd and `gets` sort them).
pub fn listing(kvs: &[(String, String)]) -> String {
    kvs.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

pub fn kv(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

/// Writes resource `<name>.toml` (template `<name>.tmpl` = `template`) reading `keys`, rendering
/// to `out/<name>.conf`; each reload appends `<name>` to the file `marker`.
pub fn add_resource(sb: &Sandbox, name: &str, keys: &[&str], template: &str, marker: &str) {
    sb.template(&format!("{name}.tmpl"), template);
    let keys: Vec<String> = keys.iter().map(|k| format!("\"{k}\"")).collect();
    sb.resource(
        &format!("{name}.toml"),
        &format!(
            "[template]\nsrc = \"{name}.tmpl\"\ndest = \"{}\"\nkeys = [{}]\nreload_cmd = \"echo {name} >> {}\"\n",
            sb.p(&format!("out/{name}.conf")),
            keys.join(", "),
            sb.p(marker)
        ),
    );
}

/// `confd -backend <backend> -confdir <sandbox confdir> -node N... <extra>`.
pub fn confd_cmd(sb: &Sandbox, backend: &str, nodes: &[String], extra: &[&str]) -> Command {
    let mut args = vec!["-backend".to_string(), backend.to_string()];
    args.extend(["-confdir".to_string(), sb.p("confdir")]);
    for n in nodes {
        args.extend(["-node".to_string(), n.clone()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    sb.confd(&args)
}

/// The number of lines of `<sandbox>/<rel>` (0 if it does not exist): reloads run.
pub fn lines(sb: &Sandbox, rel: &str) -> usize {
    sb.try_read(rel).map_or(0, |s| s.lines().count())
}

/// How many times confd compared a rendered candidate with `dest`, i.e. rendered the resource
/// (the DEBUG line `Comparing candidate config to <dest>`; needs `-log-level debug`).
pub fn renders(daemon: &Daemon, dest: &Path) -> usize {
    let line = format!("Comparing candidate config to {}", dest.display());
    daemon.stderr().lines().filter(|l| l.ends_with(&line)).count()
}

/// The last lines of a log, for failure messages.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Where the daemon's etcd watch runs now, from its log (`Watching etcd at URL`, `Watch moved to
/// etcd at URL (why)`).
pub fn watched_endpoint(stderr: &str) -> Option<String> {
    stderr.lines().rev().find_map(|line| {
        ["Watching etcd at ", "Watch moved to etcd at "].iter().find_map(|tag| {
            let rest = &line[line.find(tag)? + tag.len()..];
            rest.split_whitespace().next().map(str::to_string)
        })
    })
}

/// A short description of how `got` differs from `want` (line sets), for big files.
pub fn diff_summary(got: Option<&str>, want: &str) -> String {
    let Some(got) = got else { return "file missing".into() };
    let g: std::collections::BTreeSet<&str> = got.lines().collect();
    let w: std::collections::BTreeSet<&str> = want.lines().collect();
    let missing: Vec<&&str> = w.difference(&g).take(10).collect();
    let extra: Vec<&&str> = g.difference(&w).take(10).collect();
    format!(
        "{} lines vs {} wanted; missing (first 10): {missing:?}; unexpected (first 10): {extra:?}",
        g.len(),
        w.len()
    )
}

/// Waits up to `within` until `<sandbox>/<rel>` reads exactly `want`; panics with the file and
/// the daemon's log otherwise.
pub fn wait_for_file(sb: &Sandbox, daemon: &mut Daemon, rel: &str, want: &str, within: Duration) {
    let ok = wait_until(within, || sb.try_read(rel).as_deref() == Some(want));
    if !ok {
        let got = sb.try_read(rel);
        let shown = if want.len() > 2000 {
            diff_summary(got.as_deref(), want)
        } else {
            format!("it is {got:?}, want {want:?}")
        };
        panic!(
            "{rel} did not reach the expected contents within {within:?}: {shown}\n(exited: {:?}); stderr tail:\n{}",
            daemon.try_status(),
            tail(&daemon.stderr(), 60)
        );
    }
}

/// Waits up to `within` until `<sandbox>/<rel>` has `want` lines, then checks there are not more.
pub fn wait_for_lines(sb: &Sandbox, daemon: &Daemon, rel: &str, want: usize, within: Duration) {
    let ok = wait_until(within, || lines(sb, rel) >= want);
    assert!(ok, "{rel}: {} line(s), want {want}; stderr:\n{}", lines(sb, rel), daemon.stderr());
    assert_eq!(lines(sb, rel), want, "{rel}: too many lines; stderr:\n{}", daemon.stderr());
}

/// The number of lines of `<sandbox>/<rel>` once it has not changed for `quiet` (a reload runs
/// just after its dest is replaced, so a count taken when dest looks final can be one short).
/// Panics if it keeps changing for 20 s.
pub fn settled_lines(sb: &Sandbox, rel: &str, quiet: Duration) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut last, mut since) = (lines(sb, rel), Instant::now());
    loop {
        std::thread::sleep(Duration::from_millis(20)); // polling
        let now = lines(sb, rel);
        if now != last {
            (last, since) = (now, Instant::now());
        } else if since.elapsed() >= quiet {
            return last;
        }
        assert!(Instant::now() < deadline, "{rel} keeps changing: {last} lines");
    }
}

/// The lines of a log at ERROR or FATAL level (their messages).
pub fn errors(stderr: &str) -> Vec<String> {
    let mut all = super::messages(stderr, "ERROR");
    all.extend(super::messages(stderr, "FATAL"));
    all
}

/// Whether each outage was logged once: no ERROR or FATAL line follows another without a watch
/// connected in between ("Watching etcd at …" or "Watch moved to etcd at …"). A cluster that
/// comes back and then loses its leader again (a re-election after a member resumes) is a
/// second outage, and is logged again.
pub fn outages_logged_once_each(stderr: &str) -> bool {
    let mut in_outage = false;
    for line in stderr.lines() {
        if line.contains("]: ERROR ") || line.contains("]: FATAL ") {
            if std::mem::replace(&mut in_outage, true) {
                return false;
            }
        } else if line.contains("]: INFO Watching etcd at ")
            || line.contains("]: INFO Watch moved to etcd at ")
        {
            in_outage = false;
        }
    }
    true
}

/// Distinct ERROR/FATAL messages (`-onetime` logs the last failure again as FATAL, as confd).
pub fn distinct_errors(stderr: &str) -> Vec<String> {
    let mut all = errors(stderr);
    all.sort();
    all.dedup();
    all
}

/// How long a batch takes at most with the default `-wait 200ms:1s`, plus a margin: the window
/// after which a change that was going to be rendered has been.
pub const BATCH_WINDOW: Duration = Duration::from_millis(1500);

/// A generous bound for things that need etcd to recover (a restarted member, a new leader).
pub const RECOVERY_TIMEOUT: Duration = Duration::from_secs(20);

#[allow(unused_imports)] // not every test binary writes through the gateway
pub use testkit::gateway::{base64, Gateway};

//! What a killed confd, a hostile template or a hostile flag value can do, through the binary
//! on the file backend (no servers needed): stage files left by `kill -9` are removed at the
//! next start, and nothing else beside dest is touched.

mod common;

use std::fs;
use std::time::{Duration, SystemTime};

use common::{list_dir, wait_until, Sandbox, EVENT_TIMEOUT};

/// A resource whose check never finishes: every render leaves a stage file while it runs.
fn slow_check_resource(sb: &Sandbox) {
    sb.template("value.tmpl", "value={{ getv \"/app/value\" }}\n");
    sb.resource(
        "value.toml",
        &format!(
            "[template]\nsrc = \"value.tmpl\"\ndest = \"{}\"\nkeys = [\"/app\"]\n\
             check_cmd = \"echo $$ >> {}; exec sleep 30\"\ncheck_cmd_timeout = \"60s\"\n",
            sb.p("out/value.conf"),
            sb.p("check.pids"),
        ),
    );
    sb.write("data/app.yaml", "app:\n  value: \"v\"\n");
}

/// Kills the checks listed in a pid file (a killed confd leaves its check running).
struct KillChecksOnDrop(std::path::PathBuf);

impl Drop for KillChecksOnDrop {
    fn drop(&mut self) {
        for pid in fs::read_to_string(&self.0).unwrap_or_default().split_whitespace() {
            let _ = std::process::Command::new("kill").args(["-KILL", pid]).status();
        }
    }
}

fn stage_files(sb: &Sandbox) -> Vec<String> {
    let is_stage = |n: &str| {
        n.strip_prefix(".value.conf")
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    };
    list_dir(&sb.path("out")).into_iter().filter(|n| is_stage(n)).collect()
}

#[test]
fn stage_files_of_a_killed_confd_are_removed_at_the_next_start() {
    let sb = Sandbox::new();
    slow_check_resource(&sb);
    let _checks = KillChecksOnDrop(sb.path("check.pids"));
    // Things beside dest that are not ours, or not stale, must stay.
    let keep = [".value.conf.bak", "value.conf.orig", ".value.confX1", ".other1234", "notes"];
    for name in keep {
        sb.write(&format!("out/{name}"), "not confd's");
    }
    let data = sb.p("data/app.yaml");
    let confdir = sb.p("confdir");
    let args = ["-backend", "file", "-file", &data, "-confdir", &confdir, "-watch"];
    let mut previous: Option<String> = None;
    for round in 0..4 {
        let mut confd = sb.spawn(sb.confd(&args));
        // Each start removes what the killed run before it left, then stages its own file.
        let staged = wait_until(EVENT_TIMEOUT, || {
            let files = stage_files(&sb);
            files.len() == 1 && Some(&files[0]) != previous.as_ref()
        });
        assert!(
            staged,
            "round {round}: stage files {:?}; stderr:\n{}",
            stage_files(&sb),
            confd.stderr()
        );
        if let Some(old) = &previous {
            confd.wait_for_log(&format!("Removed {}", sb.p(&format!("out/{old}"))));
        }
        previous = stage_files(&sb).pop();
        confd.assert_running();
        drop(confd); // kill -9: no chance to clean up
    }
    for name in keep {
        assert_eq!(sb.read(&format!("out/{name}")), "not confd's", "{name} was touched");
    }
}

#[test]
fn keep_stage_file_keeps_them_across_restarts_too() {
    let sb = Sandbox::new();
    sb.template("value.tmpl", "value={{ getv \"/app/value\" }}\n");
    sb.resource(
        "value.toml",
        &format!(
            "[template]\nsrc = \"value.tmpl\"\ndest = \"{}\"\nkeys = [\"/app\"]\n",
            sb.p("out/value.conf")
        ),
    );
    sb.write("data/app.yaml", "app:\n  value: \"v\"\n");
    let old = sb.write("out/.value.conf4242", "left by a killed run");
    let past = SystemTime::now() - Duration::from_secs(3600);
    fs::File::options().write(true).open(&old).unwrap().set_modified(past).unwrap();
    let data = sb.p("data/app.yaml");
    let confdir = sb.p("confdir");
    let base = ["-backend", "file", "-file", &data, "-confdir", &confdir, "-onetime"];
    let mut keep = base.to_vec();
    keep.push("-keep-stage-file");
    sb.run_confd(&keep).assert_code(0);
    assert!(old.exists(), "-keep-stage-file removed an old stage file");
    let run = sb.run_confd(&base);
    run.assert_code(0);
    assert!(!old.exists(), "the stale stage file is still there");
    run.assert_logged("INFO", &["Removed", ".value.conf4242", "a stage file an earlier run left"]);
}

/// Values at and beyond the edges of every type a flag can have.
const EXTREME_VALUES: &[&str] = &[
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "-1",
    "0",
    "1e309",
    "NaN",
    "",
    "99999999999999999h",
    "-5s",
    "0.0000000001ns",
    "1:2:3",
    "\u{7f}\u{fffd}",
];

/// The flag names `confd -h` lists.
fn confd_flags(sb: &Sandbox) -> Vec<String> {
    let out = sb.run_confd(&["-h"]);
    out.stderr
        .lines()
        .filter_map(|l| l.strip_prefix("  -"))
        .map(|l| l.split(' ').next().unwrap_or(l).to_string())
        .collect()
}

/// No value of any flag makes confd panic (exit 101, "panicked"): each is run in interval
/// mode against the file backend (so durations are used at once), and a run still going
/// after a moment is stopped.
#[test]
fn no_flag_value_panics() {
    let sb = Sandbox::new();
    sb.template("value.tmpl", "value={{ getv \"/app/value\" }}\n");
    sb.resource(
        "value.toml",
        &format!(
            "[template]\nsrc = \"value.tmpl\"\ndest = \"{}\"\nkeys = [\"/app\"]\n",
            sb.p("out/value.conf")
        ),
    );
    sb.write("data/app.yaml", "app:\n  value: \"v\"\n");
    let flags = confd_flags(&sb);
    assert!(flags.len() > 30, "flags found in -h: {flags:?}");
    let (data, confdir) = (sb.p("data/app.yaml"), sb.p("confdir"));
    let mut panics = Vec::new();
    // Every flag in interval mode; -wait in watch mode, where it is used, with both halves.
    let huge_waits: Vec<String> = EXTREME_VALUES
        .iter()
        .map(|v| format!("{v}:{v}"))
        .chain(["1ms:99999999999999999h".into()])
        .collect();
    let mut cases: Vec<(String, Vec<String>)> = flags
        .iter()
        .map(|flag| (flag.clone(), EXTREME_VALUES.iter().map(|v| format!("-{flag}={v}")).collect()))
        .collect();
    let watch_waits = huge_waits.iter().map(|w| format!("-watch -wait={w}")).collect();
    cases.push(("wait (watch)".into(), watch_waits));
    for (flag, args) in &cases {
        // One run per value, all at once, so the sweep stays quick.
        let mut runs: Vec<_> = args
            .iter()
            .map(|arg| {
                let mut cmd = sb.confd(&["-backend", "file", "-file", &data, "-confdir", &confdir]);
                cmd.args(arg.split(' '));
                (arg, sb.spawn(cmd))
            })
            .collect();
        let window_ends = std::time::Instant::now() + Duration::from_millis(300);
        for (value, daemon) in &mut runs {
            let status =
                daemon.wait_exit(window_ends.saturating_duration_since(std::time::Instant::now()));
            let stderr = daemon.stderr();
            if status.is_some_and(|s| s.code() == Some(101)) || stderr.contains("panicked") {
                panics.push(format!("{flag}: {value:?}: {status:?}\n{stderr}"));
            }
        }
    }
    assert!(panics.is_empty(), "{} panics:\n{}", panics.len(), panics.join("\n"));
}

/// A template with Latin-1 bytes (not UTF-8) renders as confd renders it: the bytes are
/// copied to dest unchanged, the comment is skipped.
#[test]
fn a_latin1_template_renders_its_bytes_unchanged() {
    let sb = Sandbox::new();
    sb.write(
        "confdir/templates/latin1.tmpl",
        b"{{/* G\xe9n\xe9r\xe9 */}}# caf\xe9\nvalue={{getv \"/app/value\"}}\n",
    );
    sb.resource(
        "latin1.toml",
        &format!(
            "[template]\nsrc = \"latin1.tmpl\"\ndest = \"{}\"\nkeys = [\"/app\"]\n",
            sb.p("out/latin1.conf")
        ),
    );
    sb.write("data/app.yaml", "app:\n  value: \"v\"\n");
    let (data, confdir) = (sb.p("data/app.yaml"), sb.p("confdir"));
    sb.run_confd(&["-onetime", "-backend", "file", "-file", &data, "-confdir", &confdir])
        .assert_code(0);
    assert_eq!(fs::read(sb.path("out/latin1.conf")).unwrap(), b"# caf\xe9\nvalue=v\n");
}

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

const ENDLESS: &str = "{{range seq 1 1048576}}{{range seq 1 1048576}}{{end}}{{end}}";
const REPLACE_BOMB: &str =
    "{{$s := \"x\"}}{{range seq 1 22}}{{$s = replace $s \"\" $s -1}}{{end}}{{$s}}";
const PRINTF_BOMB: &str =
    "{{$s := \"x\"}}{{range seq 1 40}}{{$s = printf \"%s%s\" $s $s}}{{end}}{{$s}}";

/// A sandbox with the resource `bomb.toml` rendering `template` into `out/bomb.conf`, and
/// `good.toml` rendering the data's value into `out/good.conf`.
fn bomb_and_good(template: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.template("bomb.tmpl", template);
    sb.template("good.tmpl", "value={{ getv \"/app/value\" }}\n");
    for name in ["bomb", "good"] {
        sb.resource(
            &format!("{name}.toml"),
            &format!(
                "[template]\nsrc = \"{name}.tmpl\"\ndest = \"{}\"\nkeys = [\"/app\"]\n",
                sb.p(&format!("out/{name}.conf"))
            ),
        );
    }
    sb.write("data/app.yaml", "app:\n  value: \"v1\"\n");
    sb
}

fn file_backend_args(sb: &Sandbox, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["-backend", "file", "-file", &sb.p("data/app.yaml")]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(["-confdir".to_string(), sb.p("confdir")]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[test]
fn an_endless_render_fails_when_its_budget_is_spent() {
    let sb = bomb_and_good(ENDLESS);
    let run = sb.run_confd(&file_backend_args(&sb, &["-onetime", "-render-timeout", "500ms"]));
    run.assert_code(1);
    run.assert_logged(
        "ERROR",
        &["bomb.toml", "execution interrupted", "longer than its budget of 500ms"],
    );
    assert_eq!(sb.read("out/good.conf"), "value=v1\n", "the other resource still renders");
    assert!(!sb.exists("out/bomb.conf"));
}

#[test]
fn a_resource_s_render_timeout_overrides_the_flag() {
    let sb = bomb_and_good(ENDLESS);
    let toml = sb.read("confdir/conf.d/bomb.toml") + "render_timeout = \"300ms\"\n";
    sb.resource("bomb.toml", &toml);
    let run = sb.run_confd(&file_backend_args(&sb, &["-onetime", "-render-timeout", "1h"]));
    run.assert_code(1);
    run.assert_logged("ERROR", &["bomb.toml", "longer than its budget of 300ms"]);
}

#[test]
fn memory_bombs_fail_with_a_limit_error_instead_of_aborting() {
    for bomb in [REPLACE_BOMB, PRINTF_BOMB] {
        let sb = bomb_and_good(bomb);
        let run = sb.run_confd(&file_backend_args(&sb, &["-onetime"]));
        run.assert_code(1);
        run.assert_logged("ERROR", &["bomb.toml", "exceeds the limit of 67108864 bytes"]);
        assert_eq!(sb.read("out/good.conf"), "value=v1\n");
        assert!(!sb.exists("out/bomb.conf"));
    }
}

/// In watch mode a bomb costs only its own resource: the daemon stays up and the other
/// resource follows the data.
#[test]
fn in_watch_mode_the_daemon_survives_bombs_and_serves_the_rest() {
    let sb = bomb_and_good(PRINTF_BOMB);
    let endless = sb.read("confdir/conf.d/bomb.toml").replace("bomb", "endless");
    sb.template("endless.tmpl", ENDLESS);
    sb.resource("endless.toml", &endless);
    let args = file_backend_args(&sb, &["-watch", "-render-timeout", "500ms"]);
    let mut confd = sb.spawn(sb.confd(&args));
    confd.wait_for_log("exceeds the limit of 67108864 bytes");
    confd.wait_for_log("longer than its budget of 500ms");
    assert!(
        wait_until(EVENT_TIMEOUT, || sb.try_read("out/good.conf").as_deref() == Some("value=v1\n"))
    );
    sb.write("data/app.yaml", "app:\n  value: \"v2\"\n");
    let followed =
        wait_until(EVENT_TIMEOUT, || sb.try_read("out/good.conf").as_deref() == Some("value=v2\n"));
    assert!(followed, "good.conf did not follow; stderr:\n{}", confd.stderr());
    confd.assert_running();
}

/// SIGTERM (and SIGINT) stop a render that has no time budget at once, in every mode.
#[test]
fn sigterm_stops_a_running_render_at_once() {
    for (mode, sig) in [("-watch", "TERM"), ("-onetime", "INT"), ("-interval=600", "TERM")] {
        let sb = bomb_and_good(ENDLESS);
        let args = file_backend_args(&sb, &[mode, "-render-timeout", "0", "-log-level", "debug"]);
        let mut confd = sb.spawn(sb.confd(&args));
        confd.wait_for_log("Compiling source template");
        std::thread::sleep(Duration::from_millis(200)); // well inside the endless render
        confd.signal(sig);
        let status = confd.wait_exit(Duration::from_secs(1));
        assert!(status.is_some(), "{mode}: still running 1 s after SIG{sig}:\n{}", confd.stderr());
        let want = if mode == "-onetime" { 1 } else { 0 };
        assert_eq!(status.unwrap().code(), Some(want), "{mode}; stderr:\n{}", confd.stderr());
        assert!(!sb.exists("out/bomb.conf"));
    }
}

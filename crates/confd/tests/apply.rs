//! The apply path through the binary: stage file, check, swap, reload, and the `-noop`,
//! `-sync-only` and `-keep-stage-file` modes.

mod common;

use std::time::Duration;

use common::{list_dir, Sandbox};

const OLD: &str = "old line\nsame line\n";
const NEW: &str = "new line\nsame line\n";

/// A resource `app.toml` rendering NEW into `out/app.conf` (which holds OLD), with the given
/// extra `[template]` lines. `touch CHECKED` / `touch RELOADED` in them touch those names in
/// the sandbox (absolute paths, so the tests do not depend on the commands' working
/// directory).
fn setup(extra: &str) -> Sandbox {
    setup_with(|_| extra.to_string())
}

/// Like [`setup`], with extra lines that may name paths in the sandbox.
fn setup_with(extra: impl FnOnce(&Sandbox) -> String) -> Sandbox {
    let sb = Sandbox::new();
    sb.template("app.tmpl", NEW);
    sb.write("out/app.conf", OLD);
    let extra = extra(&sb)
        .replace("touch CHECKED", &format!("touch {}", sb.p("CHECKED")))
        .replace("touch RELOADED", &format!("touch {}", sb.p("RELOADED")));
    sb.resource(
        "app.toml",
        &format!("[template]\nsrc = \"app.tmpl\"\ndest = \"{}\"\n{extra}", sb.p("out/app.conf")),
    );
    sb
}

fn onetime(sb: &Sandbox, extra_args: &[&str]) -> common::Finished {
    let confdir = sb.p("confdir");
    let mut args = vec!["-onetime", "-backend", "env", "-confdir", &confdir];
    args.extend_from_slice(extra_args);
    sb.run_confd(&args)
}

/// The stage files (`.app.conf<digits>`) in `out/`.
fn stage_files(sb: &Sandbox) -> Vec<String> {
    list_dir(&sb.path("out"))
        .into_iter()
        .filter(|n| {
            n.strip_prefix(".app.conf")
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect()
}

/// A check that records that it ran and what it was given, then succeeds; a reload that
/// records what dest held when it ran.
fn recording_commands(sb: &Sandbox) -> String {
    format!(
        "check_cmd = \"echo {{{{.src}}}} > {checked}; cp {{{{.src}}}} {checked_copy}\"\n\
         reload_cmd = \"cp {dest} {reloaded}\"\n",
        checked = sb.p("checked-path"),
        checked_copy = sb.p("checked-copy"),
        dest = sb.p("out/app.conf"),
        reloaded = sb.p("reloaded-copy"),
    )
}

#[test]
fn check_sees_the_stage_file_and_reload_runs_after_the_swap() {
    let sb = setup_with(recording_commands);
    let run = onetime(&sb, &[]);
    run.assert_code(0);
    assert_eq!(sb.read("out/app.conf"), NEW);
    // {{.src}} was the stage file beside dest, holding the new contents.
    let staged = sb.read("checked-path");
    let staged = staged.trim_end();
    let name = staged.strip_prefix(&format!("{}/", sb.p("out"))).expect("stage file in dest's dir");
    assert!(
        name.starts_with(".app.conf")
            && name[".app.conf".len()..].bytes().all(|b| b.is_ascii_digit()),
        "{name}"
    );
    assert_eq!(sb.read("checked-copy"), NEW);
    // The reload ran after dest was replaced.
    assert_eq!(sb.read("reloaded-copy"), NEW);
    assert!(stage_files(&sb).is_empty(), "stage file left: {:?}", list_dir(&sb.path("out")));
}

#[test]
fn noop_prints_a_unified_diff_and_leaves_dest() {
    let sb = setup("check_cmd = \"touch CHECKED\"\nreload_cmd = \"touch RELOADED\"\n");
    let run = onetime(&sb, &["-noop"]);
    run.assert_code(0);
    assert_eq!(sb.read("out/app.conf"), OLD);
    let dest = sb.p("out/app.conf");
    run.assert_logged("WARNING", &[&format!("Noop mode enabled. {dest} will not be modified")]);
    let diff = format!(
        "--- {dest}\n+++ {dest} (new)\n@@ -1,2 +1,2 @@\n-old line\n+new line\n same line\n"
    );
    assert!(run.stderr.contains(&diff), "no unified diff {diff:?} in stderr:\n{}", run.stderr);
    assert!(!sb.exists("CHECKED") && !sb.exists("RELOADED"), "noop runs no command");
    assert!(stage_files(&sb).is_empty(), "stage file left: {:?}", list_dir(&sb.path("out")));
}

#[test]
fn failing_check_leaves_dest_and_logs_the_check_output() {
    let sb = setup(
        "check_cmd = \"echo checking {{.src}}; echo 'bad config' >&2; exit 3\"\nreload_cmd = \"touch RELOADED\"\n",
    );
    let before = std::fs::read(sb.path("out/app.conf")).unwrap();
    let run = onetime(&sb, &[]);
    run.assert_code(1);
    assert_eq!(std::fs::read(sb.path("out/app.conf")).unwrap(), before);
    assert!(!sb.exists("RELOADED"), "no reload after a failed check");
    assert!(stage_files(&sb).is_empty(), "stage file left: {:?}", list_dir(&sb.path("out")));
    // The combined output, Go-quoted, at ERROR.
    run.assert_logged(
        "ERROR",
        &[&format!("\"checking {}/.app.conf", sb.p("out")), "\\nbad config\\n\""],
    );
    run.assert_logged("FATAL", &["app.toml", "exit status 3"]);
}

#[test]
fn sync_only_replaces_dest_without_running_commands() {
    let sb = setup("check_cmd = \"touch CHECKED; exit 1\"\nreload_cmd = \"touch RELOADED\"\n");
    let run = onetime(&sb, &["-sync-only"]);
    run.assert_code(0);
    assert_eq!(sb.read("out/app.conf"), NEW);
    assert!(!sb.exists("CHECKED"), "sync-only runs no check_cmd");
    assert!(!sb.exists("RELOADED"), "sync-only runs no reload_cmd");
    assert!(stage_files(&sb).is_empty(), "stage file left: {:?}", list_dir(&sb.path("out")));
}

#[test]
fn keep_stage_file_leaves_it_when_the_check_fails() {
    let sb = setup_with(|sb| {
        format!("check_cmd = \"echo {{{{.src}}}} > {}; exit 1\"\n", sb.p("checked-path"))
    });
    let run = onetime(&sb, &["-keep-stage-file"]);
    run.assert_code(1);
    assert_eq!(sb.read("out/app.conf"), OLD);
    let kept = stage_files(&sb);
    assert_eq!(kept.len(), 1, "want one stage file: {:?}", list_dir(&sb.path("out")));
    assert_eq!(sb.read(&format!("out/{}", kept[0])), NEW);
    assert_eq!(sb.read("checked-path").trim_end(), sb.p(&format!("out/{}", kept[0])));
}

/// `check_cmd_timeout = "500ms"`: a hanging check is killed, the resource fails, dest is
/// untouched, and confd exits 1 long before the check's 60 s.
#[test]
fn hanging_check_is_killed_after_its_timeout() {
    let sb = setup_with(|sb| {
        format!(
            "check_cmd = \"echo $$ > {}; exec sleep 60\"\ncheck_cmd_timeout = \"500ms\"\n\
             reload_cmd = \"touch RELOADED\"\n",
            sb.p("check.pid")
        )
    });
    let run = onetime(&sb, &[]);
    run.assert_code(1);
    assert!(run.elapsed < Duration::from_secs(10), "took {:?}", run.elapsed);
    assert!(run.elapsed >= Duration::from_millis(500), "took {:?}", run.elapsed);
    assert_eq!(sb.read("out/app.conf"), OLD);
    assert!(!sb.exists("RELOADED"));
    assert!(stage_files(&sb).is_empty(), "stage file left: {:?}", list_dir(&sb.path("out")));
    run.assert_logged("FATAL", &["app.toml", "timed out after"]);
    // The `sleep 60` (the shell exec'd into it) is gone, not orphaned.
    let pid = sb.read("check.pid").trim().to_string();
    let gone = common::wait_until(Duration::from_secs(5), || {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            // A zombie waiting for its reaper is dead too.
            Ok(stat) => {
                stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z'))
            }
        }
    });
    assert!(gone, "check process {pid} still running");
}

#[test]
fn missing_dest_directory_is_a_clear_error() {
    let sb = Sandbox::new();
    sb.template("app.tmpl", NEW);
    let dir = sb.p("no-such-dir");
    sb.resource(
        "app.toml",
        &format!("[template]\nsrc = \"app.tmpl\"\ndest = \"{dir}/app.conf\"\n"),
    );
    let run = onetime(&sb, &[]);
    run.assert_code(1);
    run.assert_logged("FATAL", &["app.toml", &dir, "No such file or directory"]);
    assert!(!sb.exists("no-such-dir"), "confd must not create the directory");
}

/// A failing reload fails the run (exit 1) and puts the previous dest back, byte for byte, so
/// the file is what the server still runs (confd leaves the new file behind).
#[test]
fn failing_reload_exits_1_and_puts_the_previous_dest_back() {
    let sb = setup("reload_cmd = \"echo reload broke; exit 7\"\n");
    let run = onetime(&sb, &[]);
    run.assert_code(1);
    assert_eq!(sb.read("out/app.conf"), OLD);
    run.assert_logged("ERROR", &["\"reload broke\\n\""]);
    run.assert_logged("WARNING", &["app.toml", "put back the previous", "out/app.conf"]);
    run.assert_logged("FATAL", &["app.toml", "exit status 7"]);
}

/// confd logs `Target config <dest> out of sync` (INFO) before it runs the check, so a failed
/// check is preceded by a record of the pending change.
#[test]

fn failing_check_is_preceded_by_out_of_sync() {
    let sb = setup("check_cmd = \"exit 1\"\n");
    let run = onetime(&sb, &[]);
    run.assert_code(1);
    let line = run
        .assert_logged("INFO", &[&format!("Target config {} out of sync", sb.p("out/app.conf"))]);
    let at = run.stderr.find(&line).unwrap();
    let error_at = run.stderr.find("]: ERROR ").expect("an ERROR line");
    assert!(at < error_at, "stderr:\n{}", run.stderr);
}

/// A push resource on the env backend rendering `template`, pushing to a socket nobody serves.
fn push_resource(sb: &Sandbox, name: &str, template: &str) {
    sb.template(&format!("{name}.tmpl"), template);
    sb.resource(
        &format!("{name}.toml"),
        &format!(
            "[template]\nsrc = \"{name}.tmpl\"\ndest = \"{}\"\npush = \"unix:{}\"\n",
            sb.p(&format!("out/{name}.json")),
            sb.p("push.sock")
        ),
    );
}

#[test]
fn a_push_resource_writes_its_membership_as_json_and_sync_only_does_not_push() {
    let sb = Sandbox::new();
    sb.write("out/.keep", "");
    push_resource(&sb, "members", "web\nweb 10.0.0.1:80\nweb [::1]:81 weight=2\napi\n");
    let done = onetime(&sb, &["-sync-only"]);
    assert_eq!(done.code(), 0, "{}", done.stderr);
    assert_eq!(
        sb.read("out/members.json"),
        "{\"services\":{\"api\":[],\"web\":[{\"host\":\"10.0.0.1\",\"port\":80,\"weight\":1},\
         {\"host\":\"[::1]\",\"port\":81,\"weight\":2}]}}\n"
    );
    // Without -sync-only the push is due, and nobody serves the socket: one clear error.
    let done = onetime(&sb, &[]);
    assert_eq!(done.code(), 1);
    assert!(done.stderr.contains("push failed: cannot connect to unix:"), "{}", done.stderr);
}

#[test]
fn an_invalid_membership_is_neither_written_nor_pushed() {
    let sb = Sandbox::new();
    sb.write("out/.keep", "");
    push_resource(&sb, "members", "web 10.0.0.1:80\nweb example.com:80\n");
    let done = onetime(&sb, &[]);
    assert_eq!(done.code(), 1);
    assert!(
        done.stderr.contains("rendered an invalid membership, which is not pushed")
            && done.stderr.contains("line 2: the peer \"example.com:80\" is not IP:PORT"),
        "{}",
        done.stderr
    );
    assert!(!sb.exists("out/members.json"));
    assert!(!done.stderr.contains("push failed"), "{}", done.stderr);
}

#[test]
fn two_resources_pushing_to_one_endpoint_are_refused_at_start() {
    let sb = Sandbox::new();
    sb.write("out/.keep", "");
    push_resource(&sb, "a", "web 10.0.0.1:80\n");
    push_resource(&sb, "b", "api 10.0.0.2:80\n");
    let done = onetime(&sb, &[]);
    assert_eq!(done.code(), 1);
    assert!(done.stderr.contains("both push to unix:"), "{}", done.stderr);
    assert!(!sb.exists("out/a.json") && !sb.exists("out/b.json"));
}

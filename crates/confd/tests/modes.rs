//! The long-running modes through the binary: interval mode, `-watch` on the file backend
//! (in-place writes, replacement by rename, debounced bursts), `-watch` on the env backend,
//! SIGHUP and the clean exit on SIGTERM/SIGINT.
//!
//! Every daemon is held by a [`common::Daemon`] guard that kills and reaps it if the test
//! fails; every wait is a bounded poll for an observable outcome.

mod common;

use std::time::Duration;

use common::{replace_by_rename, wait_until, Daemon, Sandbox, EVENT_TIMEOUT};

/// `value.toml`: `out/value.conf` = `value=<the /app/value key>`, every reload appending a line
/// to `reloads`.
fn value_resource(sb: &Sandbox) {
    sb.template("value.tmpl", "value={{ getv \"/app/value\" }}\n");
    sb.resource(
        "value.toml",
        &format!(
            "[template]\nsrc = \"value.tmpl\"\ndest = \"{}\"\nkeys = [\"/app\"]\nreload_cmd = \"echo reload >> {}\"\n",
            sb.p("out/value.conf"),
            sb.p("reloads")
        ),
    );
}

fn yaml(value: &str) -> String {
    format!("app:\n  value: \"{value}\"\n")
}

fn reloads(sb: &Sandbox) -> usize {
    sb.try_read("reloads").map_or(0, |s| s.lines().count())
}

/// Waits until `out/value.conf` reads `value=<want>`; panics with the log otherwise.
fn wait_for_value(sb: &Sandbox, daemon: &mut Daemon, want: &str) {
    let expected = format!("value={want}\n");
    let ok = wait_until(EVENT_TIMEOUT, || {
        sb.try_read("out/value.conf").as_deref() == Some(expected.as_str())
    });
    assert!(
        ok,
        "out/value.conf is {:?}, want {expected:?} (exited: {:?}); stderr:\n{}",
        sb.try_read("out/value.conf"),
        daemon.try_status(),
        daemon.stderr()
    );
}

/// Waits until the reload command has run exactly `want` times in all (the reload runs just
/// after dest is replaced, so it can trail the new contents by a moment).
fn wait_for_reloads(sb: &Sandbox, daemon: &Daemon, want: usize) {
    let ok = wait_until(EVENT_TIMEOUT, || reloads(sb) >= want);
    assert!(ok, "{} reload(s), want {want}; stderr:\n{}", reloads(sb), daemon.stderr());
    assert_eq!(reloads(sb), want, "too many reloads; stderr:\n{}", daemon.stderr());
}

/// Asserts that no further reload happens for `window` (for checking non-events).
fn assert_no_reload_for(sb: &Sandbox, daemon: &Daemon, window: Duration) {
    let before = reloads(sb);
    let changed = wait_until(window, || reloads(sb) != before);
    assert!(
        !changed,
        "unexpected reload ({} now, {before} before); stderr:\n{}",
        reloads(sb),
        daemon.stderr()
    );
}

/// Sends `sig` and expects confd to log `Captured <name>. Exiting...` and exit 0.
fn stop_with(daemon: &mut Daemon, sig: &str, name: &str) {
    daemon.signal(sig);
    let status = daemon.wait_exit(EVENT_TIMEOUT);
    let stderr = daemon.stderr();
    let status =
        status.unwrap_or_else(|| panic!("confd did not exit after SIG{sig}; stderr:\n{stderr}"));
    assert_eq!(status.code(), Some(0), "exit after SIG{sig}; stderr:\n{stderr}");
    common::assert_logged(&stderr, "INFO", &[&format!("Captured {name}. Exiting...")]);
}

fn start_file_backend(sb: &Sandbox, mode_args: &[&str]) -> Daemon {
    let data = sb.p("data/app.yaml");
    let confdir = sb.p("confdir");
    let mut args =
        vec!["-backend", "file", "-file", &data, "-confdir", &confdir, "-log-level", "debug"];
    args.extend_from_slice(mode_args);
    sb.spawn(sb.confd(&args))
}

/// Interval mode renders at start, renders again after the data changes (and picks up a new
/// resource file, since every pass re-reads conf.d), and ends with exit 0 on SIGTERM.
#[test]
fn interval_mode_rerenders_and_exits_0_on_sigterm() {
    let sb = Sandbox::new();
    value_resource(&sb);
    sb.write("data/app.yaml", yaml("one"));
    let mut confd = start_file_backend(&sb, &["-interval", "1"]);
    wait_for_value(&sb, &mut confd, "one");
    wait_for_reloads(&sb, &confd, 1);

    replace_by_rename(&sb.path("data/app.yaml"), &yaml("two"));
    wait_for_value(&sb, &mut confd, "two");
    wait_for_reloads(&sb, &confd, 2);

    sb.template("extra.tmpl", "extra={{ getv \"/app/value\" }}\n");
    sb.resource(
        "extra.toml",
        &format!(
            "[template]\nsrc = \"extra.tmpl\"\ndest = \"{}\"\nkeys = [\"/app\"]\n",
            sb.p("out/extra.conf")
        ),
    );
    let picked_up = wait_until(EVENT_TIMEOUT, || {
        sb.try_read("out/extra.conf").as_deref() == Some("extra=two\n")
    });
    assert!(picked_up, "new resource not rendered; stderr:\n{}", confd.stderr());

    confd.assert_running();
    stop_with(&mut confd, "TERM", "terminated");
}

/// `-watch` on the file backend: the initial render, then a re-render after an in-place
/// rewrite, after a replacement by rename (mv), and after an in-place rewrite of the renamed-in
/// file.
#[test]
fn watch_file_backend_sees_in_place_writes_and_renames() {
    let sb = Sandbox::new();
    value_resource(&sb);
    sb.write("data/app.yaml", yaml("initial"));
    let mut confd = start_file_backend(&sb, &["-watch"]);
    wait_for_value(&sb, &mut confd, "initial");

    std::fs::write(sb.path("data/app.yaml"), yaml("written-in-place")).unwrap();
    wait_for_value(&sb, &mut confd, "written-in-place");

    replace_by_rename(&sb.path("data/app.yaml"), &yaml("renamed-over"));
    wait_for_value(&sb, &mut confd, "renamed-over");

    std::fs::write(sb.path("data/app.yaml"), yaml("in-place-again")).unwrap();
    wait_for_value(&sb, &mut confd, "in-place-again");

    confd.assert_running();
    stop_with(&mut confd, "TERM", "terminated");
}

/// `-wait 200ms:2s`: twenty in-place rewrites 20 ms apart are handled as one batch (or a few), not
/// twenty, and the final content is the last value.
#[test]
fn watch_debounces_a_burst_of_rewrites() {
    let sb = Sandbox::new();
    value_resource(&sb);
    sb.write("data/app.yaml", yaml("v0"));
    let mut confd = start_file_backend(&sb, &["-watch", "-wait", "200ms:2s"]);
    wait_for_value(&sb, &mut confd, "v0");
    wait_for_reloads(&sb, &confd, 1);

    for i in 1..=20 {
        std::fs::write(sb.path("data/app.yaml"), yaml(&format!("v{i}"))).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    wait_for_value(&sb, &mut confd, "v20");
    // Let any straggling batch finish: wait until the reload count has been stable for 1 s
    // (at most EVENT_TIMEOUT), then count.
    let mut last = (reloads(&sb), std::time::Instant::now());
    let settled = wait_until(EVENT_TIMEOUT, || {
        let now = reloads(&sb);
        if now != last.0 {
            last = (now, std::time::Instant::now());
        }
        last.1.elapsed() >= Duration::from_secs(1)
    });
    assert!(settled, "reloads never settled; stderr:\n{}", confd.stderr());
    let burst = reloads(&sb) - 1;
    eprintln!("burst of 20 rewrites: {burst} reload(s)");
    assert!(
        (1..=5).contains(&burst),
        "{burst} reloads for a burst of 20 rewrites; stderr:\n{}",
        confd.stderr()
    );
    assert_eq!(sb.read("out/value.conf"), "value=v20\n");

    confd.assert_running();
    stop_with(&mut confd, "TERM", "terminated");
}

/// `-watch -backend env`: renders once at start (confd would render nothing) and keeps
/// running; SIGINT ends it with exit 0.
#[test]
fn watch_env_backend_renders_once_and_keeps_running() {
    let sb = Sandbox::new();
    value_resource(&sb);
    let mut cmd = sb.confd(&["-watch", "-backend", "env", "-confdir", &sb.p("confdir")]);
    cmd.env("APP_VALUE", "from-env");
    let mut confd = sb.spawn(cmd);
    wait_for_value(&sb, &mut confd, "from-env");
    wait_for_reloads(&sb, &confd, 1);
    // Still running a second later, with no further render.
    assert_eq!(
        confd.wait_exit(Duration::from_secs(1)),
        None,
        "confd exited; stderr:\n{}",
        confd.stderr()
    );
    assert_eq!(reloads(&sb), 1);
    stop_with(&mut confd, "INT", "interrupt");
}

/// SIGHUP in watch mode re-reads conf.d: a resource added after start is rendered.
#[test]
fn sighup_in_watch_mode_loads_new_resources() {
    let sb = Sandbox::new();
    value_resource(&sb);
    sb.write("data/app.yaml", yaml("hup"));
    let mut confd = start_file_backend(&sb, &["-watch"]);
    wait_for_value(&sb, &mut confd, "hup");
    wait_for_reloads(&sb, &confd, 1);

    sb.template("late.tmpl", "late={{ getv \"/app/value\" }}\n");
    sb.resource(
        "late.toml",
        &format!(
            "[template]\nsrc = \"late.tmpl\"\ndest = \"{}\"\nkeys = [\"/app\"]\n",
            sb.p("out/late.conf")
        ),
    );
    assert!(!sb.exists("out/late.conf"), "watch mode must not pick up new resources by itself");
    confd.signal("HUP");
    let rendered =
        wait_until(EVENT_TIMEOUT, || sb.try_read("out/late.conf").as_deref() == Some("late=hup\n"));
    assert!(rendered, "late resource not rendered after SIGHUP; stderr:\n{}", confd.stderr());
    common::assert_logged(&confd.stderr(), "INFO", &["Reloaded 2 template resources"]);
    // The existing resource was in sync: no second reload.
    assert_no_reload_for(&sb, &confd, Duration::from_millis(500));

    // Still watching: a data change reaches both resources.
    replace_by_rename(&sb.path("data/app.yaml"), &yaml("after-hup"));
    wait_for_value(&sb, &mut confd, "after-hup");
    wait_for_reloads(&sb, &confd, 2);
    let both = wait_until(EVENT_TIMEOUT, || {
        sb.try_read("out/late.conf").as_deref() == Some("late=after-hup\n")
    });
    assert!(both, "late resource not re-rendered; stderr:\n{}", confd.stderr());

    confd.assert_running();
    stop_with(&mut confd, "TERM", "terminated");
}

/// Kubernetes mounts a ConfigMap as `app.yaml -> ..data/app.yaml`, `..data -> ..<timestamp>`,
/// and updates it by writing a new timestamped directory, renaming a new `..data` link over
/// the old one and deleting the old directory. confd's fsnotify watch is added on the `-file`
/// path itself, which follows the link to the old file; deleting it raises IN_DELETE_SELF
/// (fsnotify `Remove`), so confd re-renders.
#[test]

fn watch_sees_a_configmap_style_symlink_swap() {
    let sb = Sandbox::new();
    value_resource(&sb);
    sb.write("cm/..2024_01/app.yaml", yaml("first"));
    std::os::unix::fs::symlink("..2024_01", sb.path("cm/..data")).unwrap();
    std::os::unix::fs::symlink("..data/app.yaml", sb.path("cm/app.yaml")).unwrap();
    let data = sb.p("cm/app.yaml");
    let mut confd = sb.spawn(sb.confd(&[
        "-watch",
        "-backend",
        "file",
        "-file",
        &data,
        "-confdir",
        &sb.p("confdir"),
    ]));
    wait_for_value(&sb, &mut confd, "first");

    // The kubelet's atomic update.
    sb.write("cm/..2024_02/app.yaml", yaml("second"));
    std::os::unix::fs::symlink("..2024_02", sb.path("cm/..data_tmp")).unwrap();
    std::fs::rename(sb.path("cm/..data_tmp"), sb.path("cm/..data")).unwrap();
    std::fs::remove_dir_all(sb.path("cm/..2024_01")).unwrap();
    assert_eq!(sb.read("cm/app.yaml"), yaml("second"));

    wait_for_value(&sb, &mut confd, "second");
    stop_with(&mut confd, "TERM", "terminated");
}

/// confd builds a new watcher, walking the `-file` directories again, each time it waits for a
/// change; so a subdirectory created while it runs is watched from the next pass on.
#[test]

fn watch_sees_files_in_a_subdirectory_created_later() {
    let sb = Sandbox::new();
    sb.template("vw.tmpl", "v={{ getv \"/app/v\" }} w={{ getv \"/app/w\" \"none\" }}\n");
    sb.resource(
        "vw.toml",
        &format!(
            "[template]\nsrc = \"vw.tmpl\"\ndest = \"{}\"\nkeys = [\"/app\"]\n",
            sb.p("out/vw.conf")
        ),
    );
    sb.write("data/a.yaml", "app:\n  v: \"1\"\n");
    let dest_is = |want: &str| sb.try_read("out/vw.conf").as_deref() == Some(want);
    let passes = |d: &Daemon| d.stderr().matches(" in sync").count();
    let mut confd = start_file_backend_dir(&sb);
    assert!(wait_until(EVENT_TIMEOUT, || dest_is("v=1 w=none\n")), "stderr:\n{}", confd.stderr());

    // Creating the directory is itself an event in a watched directory: wait for that pass to
    // finish (dest in sync), after which confd watches the new directory too.
    let before = passes(&confd);
    std::fs::create_dir(sb.path("data/new")).unwrap();
    let passed = wait_until(EVENT_TIMEOUT, || passes(&confd) > before);
    assert!(passed, "no pass after mkdir; stderr:\n{}", confd.stderr());

    sb.write("data/new/b.yaml", "app:\n  w: \"2\"\n");
    let seen = wait_until(EVENT_TIMEOUT, || dest_is("v=1 w=2\n"));
    assert!(seen, "out/vw.conf is {:?}; stderr:\n{}", sb.try_read("out/vw.conf"), confd.stderr());
    confd.assert_running();
    stop_with(&mut confd, "TERM", "terminated");
}

fn start_file_backend_dir(sb: &Sandbox) -> Daemon {
    let data = sb.p("data");
    sb.spawn(sb.confd(&[
        "-watch",
        "-backend",
        "file",
        "-file",
        &data,
        "-confdir",
        &sb.p("confdir"),
        "-log-level",
        "debug",
    ]))
}

/// Kills (SIGKILL) the process whose pid is in `path`, if any, on drop: cleanup for commands
/// that confd runs in their own process group.
struct KillPidFileOnDrop(std::path::PathBuf);

impl Drop for KillPidFileOnDrop {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.0) {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", pid.trim()])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

/// confd handles SIGTERM in its own goroutine and exits at once, even while a check_cmd or
/// reload_cmd runs ("Captured terminated. Exiting...", exit 0); dest is left as it was.
#[test]

fn sigterm_during_a_running_check_exits_promptly() {
    let sb = Sandbox::new();
    sb.template("value.tmpl", "value={{ getv \"/app/value\" }}\n");
    sb.resource(
        "value.toml",
        &format!(
            "[template]\nsrc = \"value.tmpl\"\ndest = \"{}\"\nkeys = [\"/app\"]\n\
             check_cmd = \"echo $$ > {}; exec sleep 20\"\ncheck_cmd_timeout = \"60s\"\n",
            sb.p("out/value.conf"),
            sb.p("check.pid")
        ),
    );
    sb.write("data/app.yaml", yaml("slow"));
    let _check = KillPidFileOnDrop(sb.path("check.pid"));
    let mut confd = start_file_backend(&sb, &["-watch"]);
    let started =
        wait_until(EVENT_TIMEOUT, || sb.try_read("check.pid").is_some_and(|p| p.ends_with('\n')));
    assert!(started, "check_cmd never started; stderr:\n{}", confd.stderr());

    confd.signal("TERM");
    let status = confd.wait_exit(Duration::from_secs(5));
    assert!(status.is_some(), "confd still running 5 s after SIGTERM; stderr:\n{}", confd.stderr());
    assert_eq!(status.unwrap().code(), Some(0));
    common::assert_logged(&confd.stderr(), "INFO", &["Captured terminated. Exiting..."]);
    assert!(!sb.exists("out/value.conf"), "dest must not be written after SIGTERM");
}

/// A YAML syntax error while watching fails the pass (logged), confd keeps watching and the
/// next good write renders; dest keeps its last good contents meanwhile.
#[test]
fn watch_survives_a_broken_yaml_file() {
    let sb = Sandbox::new();
    value_resource(&sb);
    sb.write("data/app.yaml", yaml("good"));
    let mut confd = start_file_backend(&sb, &["-watch"]);
    wait_for_value(&sb, &mut confd, "good");

    replace_by_rename(&sb.path("data/app.yaml"), "app: [unclosed\n");
    let logged = wait_until(EVENT_TIMEOUT, || {
        common::messages(&confd.stderr(), "ERROR")
            .iter()
            .any(|m| m.contains("value.toml") && m.contains("app.yaml"))
    });
    assert!(logged, "no ERROR for the broken YAML; stderr:\n{}", confd.stderr());
    confd.assert_running();
    assert_eq!(sb.read("out/value.conf"), "value=good\n");

    replace_by_rename(&sb.path("data/app.yaml"), &yaml("fixed"));
    wait_for_value(&sb, &mut confd, "fixed");
    stop_with(&mut confd, "TERM", "terminated");
}

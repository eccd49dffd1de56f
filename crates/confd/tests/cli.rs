//! The command line, exit codes and error texts, confd.toml precedence, and the warnings about
//! resource files, through the real binary.

mod common;

use common::{mode_of, Sandbox};

/// A resource `<name>.toml` rendering `<name>.tmpl` to `out/<name>` with the given keys.
fn simple_resource(sb: &Sandbox, name: &str, template: &str, keys: &str) {
    sb.template(&format!("{name}.tmpl"), template);
    sb.resource(
        &format!("{name}.toml"),
        &format!(
            "[template]\nsrc = \"{name}.tmpl\"\ndest = \"{}\"\nkeys = {keys}\n",
            sb.p(&format!("out/{name}"))
        ),
    );
}

fn onetime_env(sb: &Sandbox) -> common::Finished {
    sb.run_confd(&["-onetime", "-backend", "env", "-confdir", &sb.p("confdir")])
}

// ---------------------------------------------------------------------------------------------
// Exit codes and error texts.

/// A resource whose template reads a missing key fails, the others are still written, and the
/// run ends with exit 1 and a FATAL line naming the resource, the template position and the
/// missing key.
#[test]
fn failing_resource_does_not_stop_the_others_and_exits_1() {
    let sb = Sandbox::new();
    simple_resource(&sb, "a", "first\n", "[]");
    simple_resource(&sb, "b", "line one\nvalue: {{ getv \"/x\" }}\n", "[\"/x\"]");
    simple_resource(&sb, "c", "third\n", "[]");
    let run = onetime_env(&sb);
    run.assert_code(1);
    assert_eq!(sb.read("out/a"), "first\n");
    assert_eq!(sb.read("out/c"), "third\n");
    assert!(!sb.exists("out/b"), "the failing resource must not write its dest");
    // Go's position: line 2, byte column 10 (where `getv` starts on that line).
    let fatal =
        run.assert_logged("FATAL", &["conf.d/b.toml", "b.tmpl:2:10", "key does not exist: /x"]);
    assert!(fatal.contains("error calling getv"), "{fatal}");
    assert_eq!(run.messages("FATAL").len(), 1, "stderr:\n{}", run.stderr);
    // The failure is also logged when it happens, before c is processed.
    let error_at = run.stderr.find("]: ERROR ").expect("an ERROR line");
    let c_done =
        run.stderr.find(&format!("{} has been updated", sb.p("out/c"))).expect("c updated");
    assert!(error_at < c_done, "stderr:\n{}", run.stderr);
}

/// One resource file with a TOML syntax error: exit 1 and nothing at all is processed, not even
/// the valid resources.
#[test]
fn toml_syntax_error_processes_nothing() {
    let sb = Sandbox::new();
    simple_resource(&sb, "a", "first\n", "[]");
    sb.resource("b.toml", "[template\nsrc = \"a.tmpl\"\n");
    simple_resource(&sb, "c", "third\n", "[]");
    let run = onetime_env(&sb);
    run.assert_code(1);
    assert!(common::list_dir(&sb.path("out")).is_empty(), "nothing may be written");
    run.assert_logged("FATAL", &["conf.d/b.toml:1", "invalid TOML"]);
    assert!(!run.stderr.contains("out of sync"), "stderr:\n{}", run.stderr);
}

#[test]
fn unknown_flag_exits_2_with_gos_message_and_usage() {
    let sb = Sandbox::new();
    let run = sb.run_confd(&["-nope"]);
    run.assert_code(2);
    let mut lines = run.stderr.lines();
    assert_eq!(lines.next(), Some("flag provided but not defined: -nope"));
    assert_eq!(lines.next(), Some(format!("Usage of {}:", common::CONFD).as_str()));
    assert!(run.stderr.contains("\n  -onetime\n    \t"), "{}", run.stderr);
    assert_eq!(run.stdout, "");
}

#[test]
fn bad_flag_value_exits_2() {
    let sb = Sandbox::new();
    let run = sb.run_confd(&["-interval", "soon"]);
    run.assert_code(2);
    assert_eq!(
        run.stderr.lines().next(),
        Some("invalid value \"soon\" for flag -interval: parse error")
    );
}

#[test]
fn help_prints_usage_on_stderr_and_exits_0() {
    for flag in ["-h", "--help"] {
        let sb = Sandbox::new();
        let run = sb.run_confd(&[flag]);
        run.assert_code(0);
        assert_eq!(run.stdout, "", "{flag}");
        assert!(
            run.stderr.starts_with(&format!("Usage of {}:\n", common::CONFD)),
            "{flag}: {}",
            run.stderr
        );
        // Go's layout: `  -name type`, then the help on the next line after four spaces and a tab.
        let backend =
            run.stderr.split("\n  -backend string\n    \t").nth(1).expect("-backend listed");
        assert!(backend.lines().next().unwrap().ends_with(" (default \"etcd\")"), "{}", run.stderr);
        for listed in ["\n  -onetime\n    \t", "\n  -watch\n    \t", "\n  -file value\n    \t"] {
            assert!(run.stderr.contains(listed), "{listed:?} missing:\n{}", run.stderr);
        }
    }
}

#[test]
fn version_prints_one_line_on_stdout_and_exits_0() {
    let sb = Sandbox::new();
    let run = sb.run_confd(&["-version"]);
    run.assert_code(0);
    assert_eq!(run.stderr, "");
    assert!(run.stdout.starts_with("confd "), "{}", run.stdout);
    assert!(run.stdout.ends_with('\n') && run.stdout.lines().count() == 1, "{:?}", run.stdout);
}

#[test]
fn missing_confdir_warns_and_exits_0() {
    let sb = Sandbox::new();
    let missing = sb.p("no-such-confdir");
    let run = sb.run_confd(&["-onetime", "-backend", "env", "-confdir", &missing]);
    run.assert_code(0);
    run.assert_logged(
        "WARNING",
        &[&format!("Cannot load template resources: confdir '{missing}' does not exist")],
    );
}

#[test]
fn missing_conf_d_is_fatal() {
    let sb = Sandbox::new();
    sb.write("bare/templates/t.tmpl", "x\n");
    let run = sb.run_confd(&["-onetime", "-backend", "env", "-confdir", &sb.p("bare")]);
    run.assert_code(1);
    let fatal = run.assert_logged("FATAL", &[]);
    assert_eq!(fatal, format!("stat {}: no such file or directory", sb.p("bare/conf.d")));
}

#[test]
fn empty_conf_d_warns_found_no_templates_and_exits_0() {
    let sb = Sandbox::new();
    let run = onetime_env(&sb);
    run.assert_code(0);
    run.assert_logged("WARNING", &["Found no templates"]);
}

#[test]
fn invalid_log_level_is_fatal() {
    let sb = Sandbox::new();
    let run = sb.run_confd(&["-onetime", "-backend", "env", "-log-level", "loud"]);
    run.assert_code(1);
    run.assert_logged("FATAL", &["not a valid level: \"loud\""]);
}

// ---------------------------------------------------------------------------------------------
// confd.toml precedence.

/// As in confd, a key in the config file beats the flag: `backend = "env"` wins over
/// `-backend file`, and we warn about it.
#[test]
fn config_file_backend_overrides_the_flag() {
    let sb = Sandbox::new();
    simple_resource(&sb, "app", "{{ getv \"/app/value\" }}\n", "[\"/app\"]");
    sb.write("data.yaml", "app:\n  value: from-file\n");
    let config = sb.write("confd.toml", "backend = \"env\"\n");
    let mut cmd = sb.bare_confd();
    cmd.args(["-config-file", config.to_str().unwrap()])
        .args(["-onetime", "-backend", "file", "-file", &sb.p("data.yaml")])
        .args(["-confdir", &sb.p("confdir")])
        .env("APP_VALUE", "from-env");
    let run = sb.run(cmd);
    run.assert_code(0);
    assert_eq!(sb.read("out/app"), "from-env\n");
    run.assert_logged("INFO", &["Backend set to env"]);
    run.assert_logged(
        "WARNING",
        &["confd.toml:1", "backend = \"env\" overrides -backend file from the command line"],
    );
}

/// `prefix` in confd.toml replaces (does not join) a resource's own prefix, with a warning
/// naming the resource.
#[test]
fn config_file_prefix_replaces_the_resource_prefix() {
    let sb = Sandbox::new();
    sb.template("p.tmpl", "{{ getv \"/app/a\" }}\n");
    let res = sb.resource(
        "p.toml",
        &format!(
            "[template]\nsrc = \"p.tmpl\"\ndest = \"{}\"\nprefix = \"res\"\nkeys = [\"/app\"]\n",
            sb.p("out/p")
        ),
    );
    sb.write(
        "data.yaml",
        "res:\n  app:\n    a: resource-prefix\nother:\n  app:\n    a: global-prefix\n  res:\n    app:\n      a: joined\n",
    );
    let config = sb.write("confd.toml", "prefix = \"/other\"\n");
    let mut cmd = sb.bare_confd();
    cmd.args(["-config-file", config.to_str().unwrap()])
        .args(["-onetime", "-backend", "file", "-file", &sb.p("data.yaml")])
        .args(["-confdir", &sb.p("confdir")]);
    let run = sb.run(cmd);
    run.assert_code(0);
    assert_eq!(sb.read("out/p"), "global-prefix\n");
    run.assert_logged(
        "WARNING",
        &[
            &format!("{}:4", res.display()),
            "prefix \"res\" is replaced by the global prefix \"/other\"",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Warnings about resource files.

#[test]
fn unknown_resource_key_warns_with_a_suggestion() {
    let sb = Sandbox::new();
    sb.template("t.tmpl", "hello\n");
    let res = sb.resource(
        "typo.toml",
        &format!(
            "[template]\nsrc = \"t.tmpl\"\ndest = \"{}\"\nreload_comd = \"touch {}\"\n",
            sb.p("out/t"),
            sb.p("reloaded")
        ),
    );
    let run = onetime_env(&sb);
    run.assert_code(0);
    assert_eq!(sb.read("out/t"), "hello\n");
    assert!(!sb.exists("reloaded"), "reload_comd is not reload_cmd");
    let warning = run.assert_logged(
        "WARNING",
        &[&format!("{}:4", res.display()), "reload_comd", "did you mean reload_cmd?"],
    );
    assert!(warning.contains("ignored"), "{warning}");
}

/// `mode = "644"` is decimal 644 = 0o1204 for confd; only the permission bits (0o204) are
/// applied. We warn, and do the same.
#[test]
fn decimal_mode_warns_and_gives_0204() {
    let sb = Sandbox::new();
    sb.template("t.tmpl", "hello\n");
    let res = sb.resource(
        "m.toml",
        &format!("[template]\nsrc = \"t.tmpl\"\ndest = \"{}\"\nmode = \"644\"\n", sb.p("out/m")),
    );
    let run = onetime_env(&sb);
    run.assert_code(0);
    assert_eq!(mode_of(&sb.path("out/m")), 0o204);
    run.assert_logged(
        "WARNING",
        &[&format!("{}:4", res.display()), "mode \"644\" is read as decimal 644", "\"0644\""],
    );
    // Stable: a second run is in sync and changes nothing.
    let again = onetime_env(&sb);
    again.assert_code(0);
    assert!(!again.stderr.contains("out of sync"), "stderr:\n{}", again.stderr);
    assert_eq!(mode_of(&sb.path("out/m")), 0o204);
}

// ---------------------------------------------------------------------------------------------
// Go `flag` parsing details.

/// Parsing stops at the first non-flag argument, so `extra -onetime` leaves -onetime unset and
/// confd runs the interval loop (as the original does); we warn about the ignored arguments.
#[test]
fn flags_after_a_positional_argument_are_ignored() {
    let sb = Sandbox::new();
    simple_resource(&sb, "a", "{{ getv \"/app/v\" }}\n", "[\"/app\"]");
    let mut cmd = sb.confd(&["-backend", "env", "-confdir", &sb.p("confdir"), "extra", "-onetime"]);
    cmd.env("APP_V", "positional");
    let mut confd = sb.spawn(cmd);
    let rendered = common::wait_until(common::EVENT_TIMEOUT, || sb.try_read("out/a").is_some());
    assert!(rendered, "stderr:\n{}", confd.stderr());
    assert_eq!(sb.read("out/a"), "positional\n");
    common::assert_logged(
        &confd.stderr(),
        "WARNING",
        &["ignoring 2 command-line argument(s) from \"extra\" on"],
    );
    // Interval mode: still running after its first pass.
    assert_eq!(
        confd.wait_exit(std::time::Duration::from_millis(500)),
        None,
        "stderr:\n{}",
        confd.stderr()
    );
    confd.signal("TERM");
    let status = confd.wait_exit(common::EVENT_TIMEOUT).expect("exit after SIGTERM");
    assert_eq!(status.code(), Some(0));
}

/// `--flag`, `-flag=value` and `--flag=value` are all accepted; `-onetime` beats `-watch`.
#[test]
fn double_dashes_and_equals_forms_and_onetime_beats_watch() {
    let sb = Sandbox::new();
    simple_resource(&sb, "a", "{{ getv \"/app/v\" }}\n", "[\"/app\"]");
    let mut cmd = sb.bare_confd();
    cmd.arg(format!("--config-file={}", sb.no_config()))
        .args(["--onetime", "-watch", "-backend=env"])
        .arg(format!("--confdir={}", sb.p("confdir")))
        .env("APP_V", "dashes");
    let run = sb.run(cmd);
    run.assert_code(0);
    assert_eq!(sb.read("out/a"), "dashes\n");
}

//! Template resources (`conf.d/*.toml`): every field, confd's matching and prefix rules, the
//! `mode` table of the behaviour notes (§2.2, §2.3), warnings and errors.

use std::path::{Path, PathBuf};
use std::time::Duration;

use confd_core::resource::{
    parse_resource, PushTarget, ResourceContext, ResourceError, TemplateResource, WaitSpec, Warning,
};

const FILE: &str = "/etc/confd/conf.d/app.toml";

fn ctx(prefix: &str) -> ResourceContext {
    ResourceContext::new("/etc/confd", prefix)
}

fn load_with(text: &str, prefix: &str) -> (TemplateResource, Vec<Warning>) {
    parse_resource(Path::new(FILE), text, &ctx(prefix))
        .unwrap_or_else(|e| panic!("unexpected error: {e}"))
}

fn load(text: &str) -> (TemplateResource, Vec<Warning>) {
    load_with(text, "")
}

fn error(text: &str) -> ResourceError {
    parse_resource(Path::new(FILE), text, &ctx("")).expect_err("expected an error")
}

fn messages(warnings: &[Warning]) -> Vec<String> {
    warnings.iter().map(ToString::to_string).collect()
}

/// A minimal resource plus `extra` lines inside `[template]`.
fn with(extra: &str) -> String {
    format!("[template]\nsrc = \"app.tmpl\"\ndest = \"/tmp/app.conf\"\n{extra}\n")
}

#[test]
fn every_field() {
    let (r, warnings) = load(
        r#"
[template]
src = "nginx/app.tmpl"
dest = "/etc/nginx/conf.d/app.conf"
keys = ["/upstream", "/settings/"]
prefix = "myapp"
mode = "0640"
uid = 33
gid = 0
check_cmd = "/usr/sbin/nginx -t -c {{.src}}"
reload_cmd = "/usr/sbin/service nginx reload"
check_cmd_timeout = "5s"
reload_cmd_timeout = "2m"
render_timeout = "750ms"
wait = "500ms:5s"
min_reload_interval = "2s"
max_removal = "30%"
hold_time = "10m"
"#,
    );
    assert_eq!(warnings, vec![]);
    assert_eq!(
        r,
        TemplateResource {
            path: PathBuf::from(FILE),
            src: PathBuf::from("/etc/confd/templates/nginx/app.tmpl"),
            dest: PathBuf::from("/etc/nginx/conf.d/app.conf"),
            keys: vec!["/upstream".into(), "/settings/".into()],
            prefix: "/myapp".into(),
            mode: Some(0o640),
            uid: Some(33),
            gid: Some(0),
            check_cmd: Some("/usr/sbin/nginx -t -c {{.src}}".into()),
            reload_cmd: Some("/usr/sbin/service nginx reload".into()),
            check_cmd_timeout: Duration::from_secs(5),
            reload_cmd_timeout: Duration::from_secs(120),
            render_timeout: Some(Duration::from_millis(750)),
            wait: Some(WaitSpec { quiet: Duration::from_millis(500), max: Duration::from_secs(5) }),
            min_reload_interval: Some(Duration::from_secs(2)),
            max_removal: Some(30),
            hold_time: Some(Duration::from_secs(600)),
            push: None,
            push_timeout: Duration::from_secs(5),
        }
    );
    assert_eq!(r.prefixed_keys(), vec!["/myapp/upstream", "/myapp/settings"]);
}

#[test]
fn defaults() {
    let (r, warnings) = load("[template]\nsrc = \"a.tmpl\"\ndest = \"/tmp/a\"\n");
    assert_eq!(warnings, vec![]);
    assert_eq!(r.keys, Vec::<String>::new());
    assert_eq!(r.prefixed_keys(), Vec::<String>::new());
    assert_eq!(r.prefix, "/");
    assert_eq!((r.mode, r.uid, r.gid), (None, None, None));
    assert_eq!((r.check_cmd, r.reload_cmd), (None, None));
    assert_eq!(r.check_cmd_timeout, Duration::from_secs(30));
    assert_eq!(r.reload_cmd_timeout, Duration::from_secs(60));
    assert_eq!(r.wait, None);
}

#[test]
fn empty_strings_mean_unset() {
    let (r, _) = load(&with("mode = \"\"\ncheck_cmd = \"\"\nreload_cmd = \"\"\nprefix = \"\""));
    assert_eq!((r.mode, r.check_cmd, r.reload_cmd), (None, None, None));
    assert_eq!(r.prefix, "/");
}

#[test]
fn uid_gid_minus_one_is_unset() {
    let (r, _) = load(&with("uid = -1\ngid = -1"));
    assert_eq!((r.uid, r.gid), (None, None));
    let (r, _) = load(&with("uid = 0\ngid = 4294967295"));
    assert_eq!((r.uid, r.gid), (Some(0), Some(u32::MAX)));
}

#[test]
fn field_names_match_case_insensitively() {
    let (r, warnings) = load(
        r#"
[Template]
SRC = "a.tmpl"
Dest = "/tmp/a"
KEYS = ["/k"]
Prefix = "p"
MODE = "0600"
Uid = 1
GID = 2
Check_Cmd = "check"
RELOAD_CMD = "reload"
Check_Cmd_Timeout = "1s"
Reload_Cmd_Timeout = "2s"
WAIT = "0"
"#,
    );
    assert_eq!(warnings, vec![]);
    assert_eq!(r.src, PathBuf::from("/etc/confd/templates/a.tmpl"));
    assert_eq!(r.dest, PathBuf::from("/tmp/a"));
    assert_eq!(r.keys, vec!["/k"]);
    assert_eq!(r.prefix, "/p");
    assert_eq!((r.mode, r.uid, r.gid), (Some(0o600), Some(1), Some(2)));
    assert_eq!(r.check_cmd.as_deref(), Some("check"));
    assert_eq!(r.reload_cmd.as_deref(), Some("reload"));
    assert_eq!(r.check_cmd_timeout, Duration::from_secs(1));
    assert_eq!(r.reload_cmd_timeout, Duration::from_secs(2));
    assert_eq!(r.wait, Some(WaitSpec::DISABLED));
}

#[test]
fn check_cmd_without_underscore_is_not_check_cmd() {
    // BurntSushi matches the tag "check_cmd" under case folding, not the Go field name.
    let (r, warnings) = load(&with("checkcmd = \"x\""));
    assert_eq!(r.check_cmd, None);
    assert_eq!(
        messages(&warnings),
        vec![format!(
            "{FILE}:4: unknown key \"checkcmd\" in [template] is ignored (confd ignores it too); \
             did you mean check_cmd?"
        )]
    );
}

#[test]
fn src_is_joined_onto_templates_like_filepath_join() {
    let cases = [
        ("app.tmpl", "/etc/confd/templates/app.tmpl"),
        ("sub/dir/app.tmpl", "/etc/confd/templates/sub/dir/app.tmpl"),
        // An absolute src is not honoured.
        ("/a/b.tmpl", "/etc/confd/templates/a/b.tmpl"),
        ("./x//y/../app.tmpl", "/etc/confd/templates/x/app.tmpl"),
        ("../outside.tmpl", "/etc/confd/outside.tmpl"),
    ];
    for (src, want) in cases {
        let text = format!("[template]\nsrc = {src:?}\ndest = \"/tmp/x\"\n");
        let (r, _) = load(&text);
        assert_eq!(r.src, PathBuf::from(want), "src = {src:?}");
    }
    let c = ResourceContext::new("/srv/confd/", "");
    let (r, _) = parse_resource(Path::new(FILE), &with(""), &c).unwrap();
    assert_eq!(r.src, PathBuf::from("/srv/confd/templates/app.tmpl"));
    let c = ResourceContext::new("confd", "");
    let (r, _) = parse_resource(Path::new(FILE), &with(""), &c).unwrap();
    assert_eq!(r.src, PathBuf::from("confd/templates/app.tmpl"));
}

#[test]
fn prefix_rules() {
    struct Case {
        own: Option<&'static str>,
        global: &'static str,
        keys: &'static [&'static str],
        prefix: &'static str,
        fetched: &'static [&'static str],
    }
    let cases = [
        // §2.2: resource "res" + global "other" reads /other/app/a, not /other/res/app/a.
        Case {
            own: Some("res"),
            global: "other",
            keys: &["/app/a"],
            prefix: "/other",
            fetched: &["/other/app/a"],
        },
        Case {
            own: Some("res"),
            global: "",
            keys: &["/app/a"],
            prefix: "/res",
            fetched: &["/res/app/a"],
        },
        Case { own: None, global: "/g", keys: &["app"], prefix: "/g", fetched: &["/g/app"] },
        Case {
            own: None,
            global: "",
            keys: &["app", "/app"],
            prefix: "/",
            fetched: &["/app", "/app"],
        },
        // "/p/" is kept as written; path.Join cleans the fetched keys.
        Case {
            own: Some("/p/"),
            global: "",
            keys: &["/x", "y/"],
            prefix: "/p/",
            fetched: &["/p/x", "/p/y"],
        },
        // "" and "/" mean the prefix itself; a trailing "/" is dropped.
        Case {
            own: Some("/svc"),
            global: "",
            keys: &["", "/", "/a/", "a//b"],
            prefix: "/svc",
            fetched: &["/svc", "/svc", "/svc/a", "/svc/a/b"],
        },
        Case { own: None, global: "", keys: &["", "/"], prefix: "/", fetched: &["/", "/"] },
    ];
    for c in cases {
        let mut extra = format!("keys = {:?}", c.keys);
        if let Some(own) = c.own {
            extra.push_str(&format!("\nprefix = {own:?}"));
        }
        let (r, _) = load_with(&with(&extra), c.global);
        assert_eq!(r.prefix, c.prefix, "own {:?} global {:?}", c.own, c.global);
        assert_eq!(r.prefixed_keys(), c.fetched, "own {:?} global {:?}", c.own, c.global);
    }
}

#[test]
fn global_prefix_override_warns() {
    let (_, warnings) = load_with(&with("prefix = \"res\""), "other");
    assert_eq!(
        messages(&warnings),
        vec![format!(
            "{FILE}:4: prefix \"res\" is replaced by the global prefix \"other\" (-prefix or prefix \
             in confd.toml), as confd does; keys are read under \"/other\""
        )]
    );
    // No warning when they agree or the resource has none.
    assert_eq!(load_with(&with("prefix = \"/g\""), "g").1, vec![]);
    assert_eq!(load_with(&with(""), "g").1, vec![]);
}

#[test]
fn clean_relative_keys_leave_out_what_cleaning_would_move() {
    let (r, _) = load(&with("prefix = \"/dc\""));
    assert_eq!(r.clean_relative_key("/dc/upstream/web/i1").as_deref(), Some("/upstream/web/i1"));
    assert_eq!(r.clean_relative_key("/dc").as_deref(), Some("/"));
    for irregular in [
        "/dc/upstream/web/../other/evil",
        "/dc/upstream/web/../../subdomain/other",
        "/dc/upstream/web/./i1",
        "/dc/upstream//web/i1",
        "/dc/upstream/web/i1/",
        "/dc/",
        "/dc/upstream/..",
    ] {
        assert_eq!(r.clean_relative_key(irregular), None, "{irregular}");
    }
}

/// The fast path of `clean_relative_key` (a clean key below a prefix that ends at a `/`) gives
/// what its definition gives, for every key of up to 7 characters over `/`, `.`, `a`.
#[test]
fn clean_relative_keys_equal_their_definition_exhaustively() {
    fn definition(prefix: &str, full_key: &str) -> Option<String> {
        let trimmed = full_key.strip_prefix(prefix).unwrap_or(full_key);
        let relative = confd_kv::gopath::join(&["/", trimmed]);
        let as_stored = trimmed.strip_prefix('/').unwrap_or(trimmed);
        let clean = confd_kv::gopath::clean(full_key) == full_key
            && relative.strip_prefix('/') == Some(as_stored);
        clean.then_some(relative)
    }
    let mut keys = vec![String::new()];
    let mut frontier = vec![String::new()];
    for _ in 0..7 {
        frontier =
            frontier.iter().flat_map(|k| ['/', '.', 'a'].map(|c| format!("{k}{c}"))).collect();
        keys.extend(frontier.iter().cloned());
    }
    for toml in ["", "prefix = \"/a\"", "prefix = \"/a/a\"", "prefix = \"a\""] {
        let (r, _) = load(&with(toml));
        let prefix = r.prefix.as_str();
        for key in &keys {
            assert_eq!(r.clean_relative_key(key), definition(prefix, key), "{prefix:?} {key:?}");
        }
    }
}

#[test]
fn relative_keys() {
    let mk = |prefix: &str| {
        let (r, _) = load(&with(&format!("prefix = {prefix:?}")));
        r
    };
    let r = mk("/service_sgin");
    assert_eq!(r.relative_key("/service_sgin/subdomain/service1"), "/subdomain/service1");
    assert_eq!(r.relative_key("/service_sgin"), "/");
    // A raw string trim, then path.Join cleans.
    assert_eq!(r.relative_key("/service_sginX/a"), "/X/a");
    assert_eq!(r.relative_key("/other/a/"), "/other/a");
    let r = mk("/p/");
    assert_eq!(r.relative_key("/p/x"), "/x");
    assert_eq!(r.relative_key("/p/x//y/"), "/x/y");
    let r = mk("");
    assert_eq!(r.relative_key("/a/b"), "/a/b");
}

#[test]
fn mode_table() {
    // §2.3 of the behaviour notes.
    let cases: &[(&str, Option<u32>, usize)] = &[
        ("0644", Some(0o644), 0),
        ("644", Some(0o204), 1), // decimal 644 = 0o1204, permission bits only
        ("0o600", Some(0o600), 0),
        ("0O600", Some(0o600), 0),
        ("0x1ff", Some(0o777), 0),
        ("0b110100100", Some(0o644), 0),
        ("04755", Some(0o755), 1), // setuid dropped
        ("01777", Some(0o777), 1), // sticky dropped
        ("0", Some(0), 0),
        ("0000", Some(0), 0),
        ("0_644", Some(0o644), 0),
        ("420", Some(0o644), 1), // decimal 420 is rw-r--r--, but still a decimal warning
    ];
    for &(mode, want, n_warnings) in cases {
        let (r, warnings) = load(&with(&format!("mode = {mode:?}")));
        assert_eq!(r.mode, want, "mode {mode:?}");
        assert_eq!(warnings.len(), n_warnings, "mode {mode:?}: {warnings:?}");
        for w in &warnings {
            assert_eq!((w.line, w.key.as_deref()), (Some(4), Some("mode")));
        }
    }
}

#[test]
fn mode_warnings_text() {
    let (_, w) = load(&with("mode = \"644\""));
    assert_eq!(
        w[0].message,
        r#"mode "644" is read as decimal 644 (octal 1204) as confd does; write "0644" for rw-r--r--"#
    );
    let (_, w) = load(&with("mode = \"999\""));
    assert_eq!(w[0].message, r#"mode "999" is read as decimal 999 (octal 1747) as confd does"#);
    let (_, w) = load(&with("mode = \"04755\""));
    assert_eq!(
        w[0].message,
        r#"mode "04755": bits above 0777 (setuid, setgid, sticky) are dropped as confd does; 0755 (rwxr-xr-x) is applied"#
    );
}

#[test]
fn mode_errors() {
    let e = error(&with("mode = \"rw\""));
    assert_eq!(
        e.to_string(),
        format!(r#"{FILE}:4: mode: strconv.ParseUint: parsing "rw": invalid syntax"#)
    );
    assert_eq!((e.line(), e.key()), (Some(4), Some("mode")));
    let e = error(&with("mode = \"0x100000000\""));
    assert_eq!(
        e.to_string(),
        format!(r#"{FILE}:4: mode: strconv.ParseUint: parsing "0x100000000": value out of range"#)
    );
    for bad in ["0x", "08", "-1", "+644", " 0644", "0644 ", "rw-r--r--"] {
        let e = error(&with(&format!("mode = {bad:?}")));
        assert!(matches!(e, ResourceError::Invalid { .. }), "mode {bad:?}: {e}");
    }
    let e = error(&with("mode = 420"));
    assert_eq!(
        e.to_string(),
        format!(r#"{FILE}:4: mode: expected a string such as mode = "0644", found integer"#)
    );
}

#[test]
fn unknown_keys_warn_with_suggestions() {
    let text = r#"owner = "postgres"
templat = 1

[template]
src = "a.tmpl"
dest = "/tmp/a"
reload_comd = "x"
unknown_field = true
filemode = 420

[extra]
src = "ignored"
"#;
    let (r, warnings) = load(text);
    assert_eq!(r.reload_cmd, None);
    assert_eq!(
        messages(&warnings),
        vec![
            format!("{FILE}:1: unknown key \"owner\" outside [template] is ignored (confd ignores it too)"),
            format!("{FILE}:2: unknown key \"templat\" outside [template] is ignored (confd ignores it too); did you mean template?"),
            format!("{FILE}:11: unknown key \"extra\" outside [template] is ignored (confd ignores it too)"),
            format!("{FILE}:7: unknown key \"reload_comd\" in [template] is ignored (confd ignores it too); did you mean reload_cmd?"),
            format!("{FILE}:8: unknown key \"unknown_field\" in [template] is ignored (confd ignores it too)"),
            format!("{FILE}:9: \"filemode\" has no effect: confd overwrites it from mode"),
        ]
    );
    assert_eq!(warnings[3].key.as_deref(), Some("reload_comd"));
}

#[test]
fn template_fields_at_top_level_warn() {
    let text = "src = \"a.tmpl\"\n[template]\nsrc = \"b.tmpl\"\ndest = \"/tmp/b\"\n";
    let (r, warnings) = load(text);
    assert_eq!(r.src, PathBuf::from("/etc/confd/templates/b.tmpl"));
    assert_eq!(
        messages(&warnings),
        vec![format!(
            "{FILE}:1: key \"src\" is outside [template] and is ignored (confd ignores it too); \
             move it under [template]"
        )]
    );
}

#[test]
fn same_field_twice_in_different_case_warns() {
    let (r, warnings) =
        load("[template]\nsrc = \"a.tmpl\"\ndest = \"/tmp/a\"\nDest = \"/tmp/b\"\n");
    assert_eq!(r.dest, PathBuf::from("/tmp/b"));
    assert_eq!(
        messages(&warnings),
        vec![format!(
            "{FILE}:4: \"Dest\" sets the same field as \"dest\" (line 3); confd picks one at \
             random, this uses \"Dest\""
        )]
    );
}

#[test]
fn missing_dest_warns() {
    let (r, warnings) = load("[template]\nsrc = \"a.tmpl\"\n");
    assert_eq!(r.dest, PathBuf::new());
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].key.as_deref(), Some("dest"));
}

#[test]
fn empty_src_errors() {
    let e = error("[template]\nsrc = \"\"\ndest = \"/tmp/a\"\n");
    assert_eq!(e.to_string(), format!("{FILE}:2: empty src template"));
    assert_eq!(e.key(), Some("src"));
    let e = error("[template]\ndest = \"/tmp/a\"\n");
    assert_eq!(e.to_string(), format!("{FILE}: empty src template"));
    let e = error("");
    assert_eq!(
        e.to_string(),
        format!("{FILE}: empty src template (the file has no [template] table)")
    );
    assert_eq!(e.path(), Path::new(FILE));
}

#[test]
fn type_mismatches_error_with_file_line_and_key() {
    let cases = [
        ("src = 1", "src: expected a string, found integer"),
        ("dest = [\"a\"]", "dest: expected a string, found array"),
        ("keys = \"/a\"", "keys: expected an array of strings, found string"),
        ("prefix = true", "prefix: expected a string, found boolean"),
        ("uid = \"33\"", "uid: expected an integer, found string"),
        ("gid = 1.0", "gid: expected an integer, found float"),
        ("check_cmd = 1", "check_cmd: expected a string, found integer"),
        ("reload_cmd = {}", "reload_cmd: expected a string, found table"),
        (
            "check_cmd_timeout = 30",
            "check_cmd_timeout: expected a duration string such as \"30s\", found integer",
        ),
        ("wait = 1", "wait: expected a string such as \"500ms:5s\", found integer"),
    ];
    for (line, want) in cases {
        // Type errors come before the check for an empty src, as in confd.
        let e = error(&format!("[template]\n\n\n{line}\n"));
        assert_eq!(e.to_string(), format!("{FILE}:4: {want}"), "{line}");
        assert!(matches!(e, ResourceError::Type { line: 4, .. }), "{line}");
    }
    let e = error("[template]\nsrc = \"a\"\nkeys = [\"/a\",\n  2]\n");
    assert_eq!(
        e.to_string(),
        format!("{FILE}:4: keys: expected a string (in keys), found integer")
    );
    let e = error("template = \"x\"\n");
    assert_eq!(e.to_string(), format!("{FILE}:1: template: expected a table, found string"));
}

#[test]
fn invalid_values() {
    let cases = [
        ("uid = -2", "uid: -2 is out of range: want 0 to 4294967295, or -1 for confd's own uid"),
        (
            "gid = 4294967296",
            "gid: 4294967296 is out of range: want 0 to 4294967295, or -1 for confd's own gid",
        ),
        ("check_cmd_timeout = \"30\"", "check_cmd_timeout: time: missing unit in duration \"30\""),
        ("reload_cmd_timeout = \"-1s\"", "reload_cmd_timeout: duration \"-1s\" is negative"),
        ("render_timeout = \"-1s\"", "render_timeout: duration \"-1s\" is negative"),
        (
            "wait = \"500ms\"",
            "wait: invalid wait \"500ms\": want \"quiet:max\" (e.g. \"500ms:5s\") or \"0\"",
        ),
        (
            "wait = \"5s:1s\"",
            "wait: invalid wait \"5s:1s\": max 1s is shorter than quiet period 5s",
        ),
        (
            "wait = \"1x:2s\"",
            "wait: invalid wait \"1x:2s\": time: unknown unit \"x\" in duration \"1x\"",
        ),
        ("min_reload_interval = \"-2s\"", "min_reload_interval: duration \"-2s\" is negative"),
        ("hold_time = \"5\"", "hold_time: time: missing unit in duration \"5\""),
        (
            "max_removal = \"150%\"",
            "max_removal: invalid percentage \"150%\": want a whole number from 0% to 100%",
        ),
        (
            "max_removal = \"half\"",
            "max_removal: invalid percentage \"half\": want a whole number from 0% to 100%",
        ),
        (
            "push = \"unix:run/push.sock\"",
            "push: the socket path of \"unix:run/push.sock\" must be absolute: unix:/path/to.sock",
        ),
        (
            "push = \"http://localhost:81\"",
            "push: \"http://localhost:81\" is not http://IP:PORT: the host \"localhost\" is a name; an IP address is needed here",
        ),
    ];
    for (line, want) in cases {
        let e = error(&with(line));
        assert_eq!(e.to_string(), format!("{FILE}:4: {want}"), "{line}");
    }
}

#[test]
fn timeouts_and_wait() {
    let (r, _) =
        load(&with("check_cmd_timeout = \"0\"\nreload_cmd_timeout = \"1m30s\"\nwait = \"0:0\""));
    assert_eq!(r.check_cmd_timeout, Duration::ZERO);
    assert_eq!(r.reload_cmd_timeout, Duration::from_secs(90));
    assert!(r.wait.unwrap().is_disabled());
    let (r, _) = load(&with("wait = \"1.5s:1m\""));
    let w = r.wait.unwrap();
    assert_eq!((w.quiet, w.max), (Duration::from_millis(1500), Duration::from_secs(60)));
    assert_eq!(w.to_string(), "1.5s:60s");
}

#[test]
fn syntax_errors_name_file_and_line() {
    let e = error("[template]\nsrc = \"a\"\ndest = /tmp/a\n");
    let ResourceError::Syntax { line, .. } = &e else {
        panic!("not a syntax error: {e}");
    };
    assert_eq!(*line, Some(3));
    assert!(e.to_string().starts_with(&format!("{FILE}:3: invalid TOML: ")), "{e}");
    let e = error("[template]\nsrc = \"a\"\nsrc = \"b\"\n");
    assert!(matches!(e, ResourceError::Syntax { line: Some(3), .. }), "{e}");
}

#[test]
fn dotted_and_inline_template_tables() {
    let (r, _) = load("template.src = \"a.tmpl\"\ntemplate.dest = \"/tmp/a\"\n");
    assert_eq!(r.dest, PathBuf::from("/tmp/a"));
    let (r, _) = load("template = { src = \"a.tmpl\", dest = \"/tmp/b\", keys = [\"/x\"] }\n");
    assert_eq!((r.dest, r.keys), (PathBuf::from("/tmp/b"), vec!["/x".to_string()]));
}

#[test]
fn push_resources() {
    let (r, warnings) =
        load(&with("push = \"unix:/srv/nginx/run/push.sock\"\npush_timeout = \"2s\""));
    assert_eq!(warnings, vec![]);
    assert_eq!(r.push, Some(PushTarget::Unix("/srv/nginx/run/push.sock".into())));
    assert_eq!(r.push_timeout, Duration::from_secs(2));
    let e = error(&with("push = \"unix:/run/p.sock\"\nreload_cmd = \"nginx -s reload\""));
    assert_eq!(e.line(), Some(5));
    assert!(e.to_string().contains("either pushes its membership (push) or reloads"), "{e}");
}

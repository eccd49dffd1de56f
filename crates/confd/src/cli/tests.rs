use super::*;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn run(list: &[&str]) -> Invocation {
    match parse("confd", &args(list)) {
        Command::Run(inv) => *inv,
        other => panic!("{list:?}: expected Run, got {other:?}"),
    }
}

fn failure(list: &[&str]) -> String {
    match parse("confd", &args(list)) {
        Command::Error { message, usage: u } => {
            assert_eq!(u, usage("confd"));
            let (stderr, code) = parse("confd", &args(list)).stderr_and_exit().unwrap();
            assert_eq!(code, 2);
            assert_eq!(stderr, format!("{message}\n{u}"));
            message
        }
        other => panic!("{list:?}: expected Error, got {other:?}"),
    }
}

/// The flags of confd master (`config.go`), behaviour notes §1.1.
const CONFD_FLAGS: &[&str] = &[
    "app-id",
    "auth-token",
    "auth-type",
    "backend",
    "basic-auth",
    "client-ca-keys",
    "client-cert",
    "client-key",
    "client-insecure",
    "confdir",
    "config-file",
    "file",
    "filter",
    "interval",
    "keep-stage-file",
    "log-level",
    "node",
    "noop",
    "onetime",
    "password",
    "path",
    "prefix",
    "role-id",
    "scheme",
    "secret-id",
    "separator",
    "srv-domain",
    "srv-record",
    "sync-only",
    "table",
    "user-id",
    "username",
    "version",
    "watch",
];

const OUR_FLAGS: &[&str] = &[
    "check-config",
    "fix-root-listing",
    "hold-time",
    "log-format",
    "max-removal",
    "metrics-addr",
    "min-reload-interval",
    "password-env",
    "password-file",
    "render-timeout",
    "wait",
    "member-refresh",
];

#[test]
fn table_has_every_confd_flag_and_ours_marked() {
    for name in CONFD_FLAGS {
        let flag = lookup(name).unwrap_or_else(|| panic!("missing confd flag -{name}"));
        assert_eq!(flag.origin, Origin::Confd, "-{name}");
        assert!(!flag.help.contains("confd-rs"), "-{name}");
    }
    for name in OUR_FLAGS {
        let flag = lookup(name).unwrap_or_else(|| panic!("missing flag -{name}"));
        assert_eq!(flag.origin, Origin::ConfdRs, "-{name}");
        assert!(flag.help.ends_with(" (confd-rs)"), "-{name}");
    }
    assert_eq!(FLAGS.len(), CONFD_FLAGS.len() + OUR_FLAGS.len());
}

#[test]
fn table_is_sorted_unique_and_consistent() {
    for pair in FLAGS.windows(2) {
        assert!(pair[0].name < pair[1].name, "{} before {}", pair[0].name, pair[1].name);
    }
    let mut keys: Vec<&str> = FLAGS.iter().map(|f| f.file_key.name()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), FLAGS.len(), "file keys are unique");
    let mut config = RawConfig::default();
    for flag in FLAGS {
        let kind = match (flag.slot)(&mut config) {
            Slot::Bool(_) => Kind::Bool,
            Slot::Str(_) => Kind::Str,
            Slot::Int(_) => Kind::Int,
            Slot::List(_) => Kind::List,
        };
        assert_eq!(kind, flag.kind, "-{}", flag.name);
    }
}

#[test]
fn every_flag_sets_its_field() {
    let inv = run(&[
        "-app-id",
        "app",
        "-auth-token",
        "tok",
        "-auth-type",
        "token",
        "-backend",
        "file",
        "-basic-auth",
        "-client-ca-keys",
        "ca.pem",
        "-client-cert",
        "c.pem",
        "-client-insecure",
        "-client-key",
        "k.pem",
        "-confdir",
        "/srv/confd",
        "-config-file",
        "/srv/confd.toml",
        "-file",
        "a.yaml",
        "-filter",
        "*.yml",
        "-interval",
        "30",
        "-keep-stage-file",
        "-log-format",
        "json",
        "-log-level",
        "debug",
        "-node",
        "http://n1:2379",
        "-noop",
        "-onetime",
        "-password",
        "pw",
        "-password-env",
        "PW",
        "-password-file",
        "/pw",
        "-path",
        "approle",
        "-prefix",
        "/app",
        "-min-reload-interval",
        "3s",
        "-max-removal",
        "20%",
        "-hold-time",
        "1m",
        "-render-timeout",
        "2s",
        "-role-id",
        "role",
        "-scheme",
        "https",
        "-secret-id",
        "secret",
        "-separator",
        ":",
        "-srv-domain",
        "example.com",
        "-srv-record",
        "_etcd._tcp.example.com",
        "-sync-only",
        "-table",
        "tbl",
        "-user-id",
        "user",
        "-username",
        "name",
        "-version",
        "-wait",
        "500ms:5s",
        "-watch",
        "-check-config",
        "-metrics-addr",
        "127.0.0.1:9420",
        "-fix-root-listing",
        "-member-refresh",
        "0",
    ]);
    let want = RawConfig {
        app_id: "app".into(),
        auth_token: "tok".into(),
        auth_type: "token".into(),
        backend: "file".into(),
        basic_auth: true,
        check_config: true,
        client_ca_keys: "ca.pem".into(),
        client_cert: "c.pem".into(),
        client_insecure: true,
        client_key: "k.pem".into(),
        confdir: "/srv/confd".into(),
        config_file: "/srv/confd.toml".into(),
        files: vec!["a.yaml".into()],
        filter: "*.yml".into(),
        interval: 30,
        keep_stage_file: true,
        log_level: "debug".into(),
        nodes: vec!["http://n1:2379".into()],
        noop: true,
        onetime: true,
        password: "pw".into(),
        path: "approle".into(),
        prefix: "/app".into(),
        role_id: "role".into(),
        scheme: "https".into(),
        secret_id: "secret".into(),
        separator: ":".into(),
        srv_domain: "example.com".into(),
        srv_record: "_etcd._tcp.example.com".into(),
        sync_only: true,
        table: "tbl".into(),
        user_id: "user".into(),
        username: "name".into(),
        version: true,
        watch: true,
        log_format: "json".into(),
        password_env: "PW".into(),
        password_file: "/pw".into(),
        wait: "500ms:5s".into(),
        render_timeout: "2s".into(),
        min_reload_interval: "3s".into(),
        max_removal: "20%".into(),
        hold_time: "1m".into(),
        metrics_addr: "127.0.0.1:9420".into(),
        fix_root_listing: true,
        member_refresh: "0".into(),
    };
    assert_eq!(inv.config, want);
    assert_eq!(inv.set.len(), FLAGS.len(), "every flag is recorded as set");
    assert!(inv.rest.is_empty());
}

#[test]
fn defaults_are_confds() {
    let inv = run(&[]);
    let c = &inv.config;
    assert_eq!(c.backend, "etcd");
    assert_eq!(c.confdir, "/etc/confd");
    assert_eq!(c.config_file, "/etc/confd/confd.toml");
    assert_eq!(c.filter, "*");
    assert_eq!(c.interval, 600);
    assert_eq!(c.scheme, "http");
    assert_eq!(c.log_level, "");
    assert_eq!(c.log_format, "text");
    assert_eq!(c.wait, "200ms:1s");
    assert!(c.nodes.is_empty() && c.files.is_empty());
    assert!(!c.onetime && !c.watch && !c.noop && !c.sync_only && !c.version);
    assert!(inv.set.is_empty());
    assert_eq!(&inv.config, &defaults());
}

#[test]
fn dash_styles_and_value_forms() {
    for form in
        [&["-backend", "env"][..], &["--backend", "env"], &["-backend=env"], &["--backend=env"]]
    {
        let inv = run(form);
        assert_eq!(inv.config.backend, "env", "{form:?}");
        assert_eq!(inv.set, vec!["backend"], "{form:?}");
    }
    // A value may start with a dash or contain '='.
    assert_eq!(run(&["-prefix", "-x"]).config.prefix, "-x");
    assert_eq!(run(&["-prefix=a=b"]).config.prefix, "a=b");
    assert_eq!(run(&["-prefix="]).config.prefix, "");
    assert_eq!(run(&["-prefix", ""]).config.prefix, "");
}

#[test]
fn ints_use_go_parse_int_base_0() {
    assert_eq!(run(&["-interval", "0x10"]).config.interval, 16);
    assert_eq!(run(&["-interval=010"]).config.interval, 8);
    assert_eq!(run(&["-interval", "1_000"]).config.interval, 1000);
    assert_eq!(run(&["-interval", "-5"]).config.interval, -5);
    assert_eq!(run(&["--interval", "+7"]).config.interval, 7);
}

#[test]
fn bare_booleans_and_explicit_values() {
    assert!(run(&["-onetime"]).config.onetime);
    assert!(run(&["--onetime"]).config.onetime);
    for t in ["true", "1", "t", "T", "TRUE", "True"] {
        assert!(run(&[&format!("-onetime={t}")]).config.onetime, "{t}");
    }
    for f in ["false", "0", "f", "F", "FALSE", "False"] {
        let inv = run(&[&format!("-onetime={f}")]);
        assert!(!inv.config.onetime, "{f}");
        assert_eq!(inv.set, vec!["onetime"]);
    }
    // Later wins.
    assert!(!run(&["-onetime", "-onetime=false"]).config.onetime);
    assert!(run(&["-watch=false", "-watch"]).config.watch);
}

#[test]
fn a_boolean_never_takes_the_next_argument() {
    let inv = run(&["-onetime", "false", "-watch"]);
    assert!(inv.config.onetime);
    assert!(!inv.config.watch, "parsing stopped at \"false\"");
    assert_eq!(inv.rest, args(&["false", "-watch"]));
}

#[test]
fn repeatable_flags_append() {
    let inv = run(&["-node", "http://a:2379", "--node=http://b:2379", "-node", "c:2379"]);
    assert_eq!(inv.config.nodes, args(&["http://a:2379", "http://b:2379", "c:2379"]));
    assert_eq!(inv.set, vec!["node"]);
    let inv = run(&["-file", "a.yaml", "-file=b.yaml"]);
    assert_eq!(inv.config.files, args(&["a.yaml", "b.yaml"]));
    // Other flags: the last value wins.
    assert_eq!(run(&["-backend", "env", "-backend", "file"]).config.backend, "file");
}

#[test]
fn parsing_stops_at_the_first_non_flag() {
    let inv = run(&["-backend", "env", "extra", "-onetime"]);
    assert_eq!(inv.config.backend, "env");
    assert!(!inv.config.onetime, "confd ignores flags after a positional argument");
    assert_eq!(inv.rest, args(&["extra", "-onetime"]));
    assert_eq!(
        leftover_warning(&inv.rest).unwrap(),
        "ignoring 2 command-line argument(s) from \"extra\" on: flags must come before any other \
         argument (confd ignores them too)"
    );
    assert_eq!(leftover_warning(&[]), None);
    // A lone "-" is not a flag.
    let inv = run(&["-", "-onetime"]);
    assert_eq!(inv.rest, args(&["-", "-onetime"]));
    assert!(!inv.config.onetime);
}

#[test]
fn double_dash_ends_flags() {
    let inv = run(&["-onetime", "--", "-watch", "x"]);
    assert!(inv.config.onetime && !inv.config.watch);
    assert_eq!(inv.rest, args(&["-watch", "x"]));
    let inv = run(&["--"]);
    assert!(inv.rest.is_empty());
}

#[test]
fn unknown_flag() {
    assert_eq!(failure(&["-x"]), "flag provided but not defined: -x");
    assert_eq!(failure(&["--nope=1"]), "flag provided but not defined: -nope");
    // Removed in confd master.
    assert_eq!(
        failure(&["-secret-keyring", "k"]),
        "flag provided but not defined: -secret-keyring"
    );
    // Flags are case-sensitive.
    assert_eq!(failure(&["-Backend", "env"]), "flag provided but not defined: -Backend");
    // An error after good flags still fails.
    assert_eq!(failure(&["-onetime", "-bogus"]), "flag provided but not defined: -bogus");
}

#[test]
fn bad_values() {
    assert_eq!(
        failure(&["-interval", "abc"]),
        r#"invalid value "abc" for flag -interval: parse error"#
    );
    assert_eq!(
        failure(&["-interval=99999999999999999999"]),
        r#"invalid value "99999999999999999999" for flag -interval: value out of range"#
    );
    assert_eq!(failure(&["-interval", ""]), r#"invalid value "" for flag -interval: parse error"#);
    assert_eq!(
        failure(&["-onetime=yes"]),
        r#"invalid boolean value "yes" for -onetime: parse error"#
    );
    assert_eq!(failure(&["-onetime="]), r#"invalid boolean value "" for -onetime: parse error"#);
    assert_eq!(failure(&["-backend"]), "flag needs an argument: -backend");
    assert_eq!(failure(&["-node"]), "flag needs an argument: -node");
    assert_eq!(failure(&["---x"]), "bad flag syntax: ---x");
    assert_eq!(failure(&["-=x"]), "bad flag syntax: -=x");
    assert_eq!(failure(&["--=x"]), "bad flag syntax: --=x");
}

#[test]
fn our_flags_are_checked_at_parse_time() {
    assert_eq!(
        failure(&["-wait", "5s"]),
        r#"invalid value "5s" for flag -wait: invalid wait "5s": want "quiet:max" (e.g. "500ms:5s") or "0""#
    );
    assert_eq!(
        failure(&["-log-format", "xml"]),
        r#"invalid value "xml" for flag -log-format: want text or json"#
    );
    assert_eq!(run(&["-wait", "0"]).config.wait, "0");
    assert_eq!(run(&["-wait=1s:10s"]).config.wait, "1s:10s");
    // confd's own flags take any string; confd checks -log-level later (exit 1, not 2).
    assert_eq!(run(&["-log-level", "loud"]).config.log_level, "loud");
    assert_eq!(run(&["-backend", "nope"]).config.backend, "nope");
}

#[test]
fn help() {
    for h in ["-h", "-help", "--help", "--h", "-h=1"] {
        match parse("confd", &args(&[h])) {
            Command::Help { usage: u } => assert_eq!(u, usage("confd")),
            other => panic!("{h}: {other:?}"),
        }
        let (stderr, code) = parse("confd", &args(&[h])).stderr_and_exit().unwrap();
        assert_eq!((stderr, code), (usage("confd"), 0));
    }
    // Flags before -h are parsed, but -h still wins.
    assert!(matches!(parse("confd", &args(&["-onetime", "-h"])), Command::Help { .. }));
    // After a positional argument -h is just an argument.
    assert!(matches!(parse("confd", &args(&["x", "-h"])), Command::Run(_)));
    assert_eq!(parse("confd", &[]).stderr_and_exit().map(|x| x.1), None);
}

#[test]
fn usage_names_the_program_as_invoked() {
    assert!(usage("/usr/local/bin/confd").starts_with("Usage of /usr/local/bin/confd:\n"));
}

#[test]
fn usage_snapshot() {
    assert_eq!(usage("confd"), USAGE);
}

/// Go's `flag.PrintDefaults` layout: `  -name type`, then `    \t` + help (+ default). Review
/// changes to this file as you would a snapshot.
const USAGE: &str = include_str!("usage.txt");

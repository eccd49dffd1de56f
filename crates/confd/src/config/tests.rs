use super::*;
use crate::cli::{parse, Command};
use std::time::Duration;

const FILE: &str = "/etc/confd/confd.toml";

fn invocation(list: &[&str]) -> Invocation {
    let args: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    match parse("confd", &args) {
        Command::Run(inv) => *inv,
        other => panic!("{list:?}: {other:?}"),
    }
}

fn env(pairs: &[(&str, &str)]) -> Env {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Flags, then the file (if any), then env; then finish without an SRV lookup.
fn resolve(
    flags: &[&str],
    file: Option<&str>,
    vars: &[(&str, &str)],
) -> Result<(RawConfig, Vec<String>), ConfigError> {
    let env = env(vars);
    let loaded = load(&invocation(flags), file, &env)?;
    let warnings = loaded.warnings.iter().map(ToString::to_string).collect();
    Ok((finish(loaded.config, None, &env)?.raw, warnings))
}

fn ok(flags: &[&str], file: Option<&str>) -> (RawConfig, Vec<String>) {
    resolve(flags, file, &[]).unwrap_or_else(|e| panic!("{e}"))
}

fn err(flags: &[&str], file: Option<&str>) -> String {
    resolve(flags, file, &[]).expect_err("expected an error").to_string()
}

#[test]
fn defaults_match_confds_config_test() {
    // confd's config_test.go (behaviour notes §6.1).
    let (c, warnings) = ok(&[], None);
    assert_eq!(warnings, Vec::<String>::new());
    assert_eq!(c.backend, "etcd");
    assert_eq!(c.nodes, vec!["http://127.0.0.1:4001"]);
    assert_eq!(c.scheme, "http");
    assert_eq!(c.filter, "*");
    assert_eq!(c.confdir, "/etc/confd");
    assert_eq!(c.conf_d_dir(), PathBuf::from("/etc/confd/conf.d"));
    assert_eq!(c.template_dir(), PathBuf::from("/etc/confd/templates"));
    assert_eq!(c.config_file, FILE);
    assert_eq!(c.interval, 600);
    assert!(!c.noop);
    assert_eq!(c.log_level().unwrap(), LogLevel::Info);
    assert_eq!(c.log_format().unwrap(), LogFormat::Text);
    let wait = c.wait_spec().unwrap();
    assert_eq!((wait.quiet, wait.max), (Duration::from_millis(200), Duration::from_secs(1)));
}

#[test]
fn confdir_dirs_are_cleaned() {
    let (c, _) = ok(&["-confdir", "/srv/confd/"], None);
    assert_eq!(c.conf_d_dir(), PathBuf::from("/srv/confd/conf.d"));
    assert_eq!(c.template_dir(), PathBuf::from("/srv/confd/templates"));
    let (c, _) = ok(&["-confdir", "rel"], None);
    assert_eq!(c.conf_d_dir(), PathBuf::from("rel/conf.d"));
}

#[test]
fn file_beats_flags_with_a_warning() {
    // §1.3 [run]: backend = "env" in the file plus -backend file gave "Backend set to env".
    let (c, warnings) = ok(&["-backend", "file"], Some("backend = \"env\"\n"));
    assert_eq!(c.backend, "env");
    assert_eq!(
        warnings,
        vec![format!(
            "{FILE}:1: backend = \"env\" overrides -backend file from the command line (confd \
             gives the file precedence)"
        )]
    );
    // §1.3 [run]: prefix = "/other" in the file beat -prefix /.
    let (c, warnings) = ok(&["-prefix", "/"], Some("\n\nprefix = \"/other\"\n"));
    assert_eq!(c.prefix, "/other");
    assert_eq!(
        warnings,
        vec![format!(
            "{FILE}:3: prefix = \"/other\" overrides -prefix / from the command line (confd gives \
             the file precedence)"
        )]
    );
}

#[test]
fn override_warnings_only_for_flags_given_and_changed() {
    // Not given on the command line: the file just sets it.
    let (c, warnings) = ok(&[], Some("backend = \"env\"\ninterval = 5\n"));
    assert_eq!((c.backend.as_str(), c.interval), ("env", 5));
    assert!(warnings.is_empty(), "{warnings:?}");
    // Given with the same value: nothing to say.
    let (_, warnings) = ok(&["-backend", "env"], Some("backend = \"env\"\n"));
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn override_warning_shapes() {
    let (c, w) = ok(&["-onetime"], Some("onetime = false\n"));
    assert!(!c.onetime);
    assert_eq!(
        w,
        vec![format!(
            "{FILE}:1: onetime = false overrides -onetime from the command line (confd gives the \
             file precedence)"
        )]
    );
    let (_, w) = ok(&["-interval", "10"], Some("interval = 20\n"));
    assert_eq!(
        w,
        vec![format!(
            "{FILE}:1: interval = 20 overrides -interval 10 from the command line (confd gives \
             the file precedence)"
        )]
    );
    let (_, w) = ok(&["-prefix", ""], Some("prefix = \"/p\"\n"));
    assert!(w[0].contains("overrides -prefix \"\" from the command line"), "{w:?}");
}

#[test]
fn nodes_in_the_file_replace_node_flags() {
    let (c, warnings) = ok(
        &["-node", "http://a:2379", "-node", "http://b:2379"],
        Some("nodes = [\"http://c:2379\"]\n"),
    );
    assert_eq!(c.nodes, vec!["http://c:2379"]);
    assert_eq!(
        warnings,
        vec![format!(
            "{FILE}:1: nodes = [\"http://c:2379\"] replaces -node http://a:2379 -node \
             http://b:2379 from the command line (confd gives the file precedence, and nodes \
             replaces the -node list rather than adding to it)"
        )]
    );
    // An empty list in the file empties it, and then the defaults apply.
    let (c, _) = ok(&["-node", "http://a:2379"], Some("nodes = []\n"));
    assert_eq!(c.nodes, vec!["http://127.0.0.1:4001"]);
    // file replaces -file the same way.
    let (c, _) = ok(&["-file", "a.yaml"], Some("file = [\"b.yaml\", \"c.yaml\"]\n"));
    assert_eq!(c.files, vec!["b.yaml", "c.yaml"]);
}

#[test]
fn every_file_key() {
    let text = r#"
app_id = "app"
auth_token = "tok"
auth_type = "token"
backend = "file"
basic_auth = true
client_cakeys = "ca.pem"
client_cert = "c.pem"
client_insecure = false
client_key = "k.pem"
confdir = "/srv/confd"
file = ["a.yaml"]
filter = "*.yml"
interval = 30
keepstagefile = true
log-format = "json"
log-level = "debug"
nodes = ["n1"]
noop = true
onetime = true
password_file = "/pw"
path = "approle"
prefix = "/app"
role_id = "role"
scheme = "https"
secret_id = "secret"
separator = ":"
srv_domain = "example.com"
srv_record = "_x._tcp.example.com"
render_timeout = "3s"
min_reload_interval = "4s"
max_removal = "10%"
hold_time = "2m"
metrics_addr = "127.0.0.1:9420"
fix_root_listing = true
member_refresh = "10s"
sync-only = true
table = "tbl"
user_id = "user"
username = "name"
wait = "1s:10s"
watch = true
"#;
    let (c, warnings) = ok(&[], Some(text));
    assert!(warnings.is_empty(), "{warnings:?}");
    let want = RawConfig {
        app_id: "app".into(),
        auth_token: "tok".into(),
        auth_type: "token".into(),
        backend: "file".into(),
        basic_auth: true,
        check_config: false,
        client_ca_keys: "ca.pem".into(),
        client_cert: "c.pem".into(),
        client_insecure: false,
        client_key: "k.pem".into(),
        confdir: "/srv/confd".into(),
        config_file: FILE.into(),
        files: vec!["a.yaml".into()],
        filter: "*.yml".into(),
        interval: 30,
        keep_stage_file: true,
        log_level: "debug".into(),
        nodes: vec!["n1".into()],
        noop: true,
        onetime: true,
        password: String::new(),
        path: "approle".into(),
        prefix: "/app".into(),
        role_id: "role".into(),
        scheme: "https".into(),
        secret_id: "secret".into(),
        separator: ":".into(),
        srv_domain: "example.com".into(),
        srv_record: "_x._tcp.example.com".into(),
        sync_only: true,
        table: "tbl".into(),
        user_id: "user".into(),
        username: "name".into(),
        version: false,
        watch: true,
        log_format: "json".into(),
        password_env: String::new(),
        password_file: "/pw".into(),
        wait: "1s:10s".into(),
        render_timeout: "3s".into(),
        min_reload_interval: "4s".into(),
        max_removal: "10%".into(),
        hold_time: "2m".into(),
        metrics_addr: "127.0.0.1:9420".into(),
        fix_root_listing: true,
        member_refresh: "10s".into(),
    };
    assert_eq!(c, want);
    // The ones left out above because they conflict with others.
    let (c, _) = ok(&[], Some("password = \"pw\"\n"));
    assert_eq!(c.password, "pw");
    let (c, _) = resolve(&[], Some("password_env = \"PW\"\n"), &[("PW", "s3")]).unwrap();
    assert_eq!((c.password.as_str(), c.password_env.as_str()), ("s3", "PW"));
}

#[test]
fn keys_match_case_insensitively() {
    let text = "Backend = \"env\"\nONETIME = true\nKeepStageFile = true\nLog-Level = \"warn\"\nSYNC-ONLY = true\nClient_CAKeys = \"ca\"\nNodes = [\"x\"]\n";
    let (c, warnings) = ok(&[], Some(text));
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(c.backend, "env");
    assert!(c.onetime && c.keep_stage_file && c.sync_only);
    assert_eq!(c.log_level, "warn");
    assert_eq!(c.client_ca_keys, "ca");
    assert_eq!(c.nodes, vec!["x"]);
}

#[test]
fn flag_spellings_are_not_file_keys() {
    let text =
        "client-ca-keys = \"ca\"\nkeep-stage-file = true\nnode = [\"x\"]\nlog_level = \"debug\"\n";
    let (c, warnings) = ok(&[], Some(text));
    assert_eq!(c.client_ca_keys, "");
    assert!(!c.keep_stage_file);
    assert_eq!(c.log_level, "");
    assert_eq!(
        warnings,
        vec![
            format!("{FILE}:1: unknown key \"client-ca-keys\" is ignored (confd ignores it too); did you mean client_cakeys?"),
            format!("{FILE}:2: unknown key \"keep-stage-file\" is ignored (confd ignores it too); did you mean keepstagefile?"),
            format!("{FILE}:3: unknown key \"node\" is ignored (confd ignores it too); did you mean nodes?"),
            format!("{FILE}:4: unknown key \"log_level\" is ignored (confd ignores it too); did you mean log-level?"),
        ]
    );
}

#[test]
fn unknown_and_inert_keys_warn() {
    let text = "bakend = \"env\"\nsecret_keyring = \"/k\"\n[template]\nsrc = \"x\"\n";
    let (c, warnings) = ok(&[], Some(text));
    assert_eq!(c.backend, "etcd");
    assert_eq!(
        warnings,
        vec![
            format!("{FILE}:1: unknown key \"bakend\" is ignored (confd ignores it too); did you mean backend?"),
            format!("{FILE}:2: \"secret_keyring\" is ignored: confd master removed it with the crypt functions (cget, cgetv…)"),
            format!("{FILE}:3: unknown key \"template\" is ignored (confd ignores it too)"),
        ]
    );
    let text = "configdir = \"/x\"\ntemplatedir = \"/y\"\nrole = \"r\"\nprintversion = true\nconfigfile = \"/z\"\n";
    let (c, warnings) = ok(&[], Some(text));
    assert!(!c.version);
    assert_eq!(c.config_file, FILE);
    assert_eq!(
        warnings,
        vec![
            format!("{FILE}:1: \"configdir\" has no effect: confd always sets it to <confdir>/conf.d"),
            format!("{FILE}:2: \"templatedir\" has no effect: confd always sets it to <confdir>/templates"),
            format!("{FILE}:3: \"role\" has no effect: confd never uses it"),
            format!("{FILE}:4: \"printversion\" has no effect: confd reads -version before the config file"),
            format!("{FILE}:5: \"configfile\" has no effect: confd reads -config-file before the config file"),
        ]
    );
}

#[test]
fn same_key_in_two_spellings_warns() {
    let (c, warnings) = ok(&[], Some("backend = \"env\"\nBackend = \"file\"\n"));
    // Document order: the later one wins (confd: random).
    assert_eq!(c.backend, "file");
    assert_eq!(
        warnings,
        vec![format!(
            "{FILE}:2: \"Backend\" sets the same setting as \"backend\" (line 1); confd picks one \
             at random, this uses \"Backend\""
        )]
    );
}

#[test]
fn file_errors() {
    assert_eq!(
        err(&[], Some("interval = \"600\"\n")),
        format!("{FILE}:1: interval: expected an integer, found string")
    );
    assert_eq!(
        err(&[], Some("\nnodes = \"http://x\"\n")),
        format!("{FILE}:2: nodes: expected an array of strings, found string")
    );
    assert_eq!(
        err(&[], Some("nodes = [1]\n")),
        format!("{FILE}:1: nodes: expected an array of strings, found an array holding an integer")
    );
    assert_eq!(
        err(&[], Some("onetime = \"true\"\n")),
        format!("{FILE}:1: onetime: expected a boolean, found string")
    );
    assert_eq!(
        err(&[], Some("backend = 1\n")),
        format!("{FILE}:1: backend: expected a string, found integer")
    );
    assert_eq!(
        err(&[], Some("role = 1\n")),
        format!("{FILE}:1: role: expected a string, found integer")
    );
    let syntax = err(&[], Some("backend = \"env\"\nnodes = [\n"));
    assert!(syntax.starts_with(&format!("{FILE}:")), "{syntax}");
    assert!(syntax.contains("invalid TOML"), "{syntax}");
    // The file named by -config-file.
    let e = resolve(&["-config-file", "/x/c.toml"], Some("backend = 1"), &[]).unwrap_err();
    assert_eq!(e.to_string(), "/x/c.toml:1: backend: expected a string, found integer");
}

#[test]
fn env_fills_only_empty_tls_settings() {
    let vars = [
        ("CONFD_CLIENT_CAKEYS", "env-ca"),
        ("CONFD_CLIENT_CERT", "env-cert"),
        ("CONFD_CLIENT_KEY", "env-key"),
    ];
    let (c, _) = resolve(&[], None, &vars).unwrap();
    assert_eq!(
        (c.client_ca_keys.as_str(), c.client_cert.as_str(), c.client_key.as_str()),
        ("env-ca", "env-cert", "env-key")
    );
    // A flag or the file wins over the environment.
    let (c, _) =
        resolve(&["-client-cert", "flag-cert"], Some("client_key = \"file-key\"\n"), &vars)
            .unwrap();
    assert_eq!(
        (c.client_ca_keys.as_str(), c.client_cert.as_str(), c.client_key.as_str()),
        ("env-ca", "flag-cert", "file-key")
    );
    // An empty variable fills nothing.
    let (c, _) = resolve(&[], None, &[("CONFD_CLIENT_CERT", "")]).unwrap();
    assert_eq!(c.client_cert, "");
}

#[test]
fn default_nodes_per_backend() {
    let cases = [
        ("consul", vec!["127.0.0.1:8500"]),
        ("etcd", vec!["http://127.0.0.1:4001"]),
        ("etcdv3", vec!["127.0.0.1:2379"]),
        ("redis", vec!["127.0.0.1:6379"]),
        ("vault", vec!["http://127.0.0.1:8200"]),
        ("zookeeper", vec!["127.0.0.1:2181"]),
        ("env", vec![]),
        ("file", vec![]),
        ("rancher", vec![]),
        ("ssm", vec![]),
    ];
    for (backend, want) in cases {
        let (c, _) = ok(&["-backend", backend], None);
        assert_eq!(c.nodes, want, "{backend}");
    }
    // Given nodes are kept.
    let (c, _) = ok(&["-backend", "etcdv3", "-node", "10.0.0.1:2379"], None);
    assert_eq!(c.nodes, vec!["10.0.0.1:2379"]);
}

#[test]
fn etcdctl_peers_for_etcd_only() {
    let peers = [("ETCDCTL_PEERS", "http://a:2379,http://b:2379")];
    let (c, _) = resolve(&[], None, &peers).unwrap();
    assert_eq!(c.nodes, vec!["http://a:2379", "http://b:2379"]);
    let (c, _) = resolve(&["-backend", "etcdv3"], None, &peers).unwrap();
    assert_eq!(c.nodes, vec!["127.0.0.1:2379"]);
    let (c, _) = resolve(&[], None, &[("ETCDCTL_PEERS", "")]).unwrap();
    assert_eq!(c.nodes, vec!["http://127.0.0.1:4001"]);
    let (c, _) = resolve(&["-node", "x"], None, &peers).unwrap();
    assert_eq!(c.nodes, vec!["x"]);
}

#[test]
fn srv_records() {
    let env = Env::new();
    let loaded = load(&invocation(&["-srv-domain", "example.com"]), None, &env).unwrap();
    assert_eq!(loaded.config.raw.srv_record, "_etcd._tcp.example.com.");
    assert!(loaded.config.raw.needs_srv_lookup());
    assert_eq!(loaded.warnings.len(), 1, "etcd naming warning");
    let c = finish(loaded.config, Some(vec!["h1:2379".into(), "h2:2379".into()]), &env).unwrap();
    assert_eq!(c.raw.nodes, vec!["http://h1:2379", "http://h2:2379"]);

    let inv = invocation(&["-backend", "consul", "-srv-domain", "example.com", "-scheme", "https"]);
    let loaded = load(&inv, None, &env).unwrap();
    assert_eq!(loaded.config.raw.srv_record, "_consul._tcp.example.com.");
    assert!(loaded.warnings.is_empty());
    let c = finish(loaded.config, Some(vec!["h1:8500".into()]), &env).unwrap();
    assert_eq!(c.raw.nodes, vec!["h1:8500"], "only etcd gets the scheme");

    // An explicit record wins over the domain; SRV nodes replace -node.
    let inv =
        invocation(&["-srv-record", "_etcd-client._tcp.x.", "-srv-domain", "y", "-node", "n"]);
    let loaded = load(&inv, None, &env).unwrap();
    assert_eq!(loaded.config.raw.srv_record, "_etcd-client._tcp.x.");
    let c = finish(loaded.config, Some(vec!["h:1".into()]), &env).unwrap();
    assert_eq!(c.raw.nodes, vec!["http://h:1"]);

    // No records found: the defaults apply.
    let loaded = load(&invocation(&["-srv-domain", "x"]), None, &env).unwrap();
    let c = finish(loaded.config, Some(vec![]), &env).unwrap();
    assert_eq!(c.raw.nodes, vec!["http://127.0.0.1:4001"]);

    // The env backend never looks up SRV.
    let loaded = load(&invocation(&["-backend", "env", "-srv-domain", "x"]), None, &env).unwrap();
    assert!(!loaded.config.raw.needs_srv_lookup());
    assert!(!invocation(&[]).config.needs_srv_lookup());
}

#[test]
fn log_levels() {
    for (text, level) in [
        ("", LogLevel::Info),
        ("debug", LogLevel::Debug),
        ("DEBUG", LogLevel::Debug),
        ("warning", LogLevel::Warn),
        ("warn", LogLevel::Warn),
        ("trace", LogLevel::Trace),
        ("panic", LogLevel::Panic),
        ("fatal", LogLevel::Fatal),
        ("error", LogLevel::Error),
        ("Info", LogLevel::Info),
    ] {
        let (c, _) = ok(&["-log-level", text], None);
        assert_eq!(c.log_level().unwrap(), level, "{text}");
    }
    assert_eq!(err(&["-log-level", "loud"], None), r#"not a valid level: "loud""#);
    assert_eq!(err(&[], Some("log-level = \"x\"\n")), r#"not a valid level: "x""#);
}

#[test]
fn backend_checks() {
    assert_eq!(
        err(&["-backend", "etcd2"], None),
        "Invalid backend \"etcd2\": want one of consul, dynamodb, env, etcd, etcdv3, etcdv2, file, \
         rancher, redis, ssm, vault, zookeeper"
    );
    assert!(err(&[], Some("backend = \"Etcd\"\n")).starts_with("Invalid backend"));
    for backend in BACKENDS {
        let flags = ["-backend", backend, "-table", "t"];
        assert!(resolve(&flags, None, &[]).is_ok(), "{backend}");
    }
    assert_eq!(
        err(&["-backend", "dynamodb", "-watch", "-onetime", "-table", "t"], None),
        "Watch is not supported for backend dynamodb. Exiting..."
    );
    assert_eq!(
        err(&["-backend", "ssm", "-watch"], None),
        "Watch is not supported for backend ssm. Exiting..."
    );
    assert_eq!(err(&["-backend", "dynamodb"], None), "No DynamoDB table configured");
}

#[test]
fn our_settings_are_validated_from_the_file_too() {
    assert_eq!(
        err(&[], Some("wait = \"5s\"\n")),
        r#"invalid -wait "5s": invalid wait "5s": want "quiet:max" (e.g. "500ms:5s") or "0""#
    );
    assert_eq!(
        err(&[], Some("log-format = \"xml\"\n")),
        r#"invalid -log-format "xml": want text or json"#
    );
    let (c, _) = ok(&[], Some("wait = \"500ms:5s\"\n"));
    let w = c.wait_spec().unwrap();
    assert_eq!(
        (w.quiet, w.max),
        (std::time::Duration::from_millis(500), std::time::Duration::from_secs(5))
    );
}

#[test]
fn password_sources() {
    assert_eq!(
        err(&["-password", "a", "-password-file", "/pw"], None),
        "the password is given more than once (-password, -password-file); give only one of \
         -password, -password-file, -password-env"
    );
    assert_eq!(
        err(&["-password-env", "PW"], Some("password = \"x\"\n")),
        "the password is given more than once (-password, -password-env); give only one of \
         -password, -password-file, -password-env"
    );
    let (c, _) = resolve(&["-password-env", "PW"], None, &[("PW", "secret")]).unwrap();
    assert_eq!(c.password, "secret");
    let e = resolve(&["-password-env", "PW"], None, &[]).unwrap_err();
    assert_eq!(e.to_string(), "-password-env: environment variable PW is not set or empty");
    assert_eq!(password_from_file_text("s3cret\n"), "s3cret");
    assert_eq!(password_from_file_text("s3cret\r\n\n"), "s3cret");
    assert_eq!(password_from_file_text("a b \n"), "a b ");
}

#[test]
fn client_insecure_warns_it_does_nothing() {
    let (_, w) = ok(&["-client-insecure"], None);
    assert_eq!(w, vec!["-client-insecure (client_insecure) has no effect, as in confd"]);
}

#[test]
fn reading_the_file() {
    let missing = Path::new("/nonexistent/confd-rs-test/confd.toml");
    assert!(read_config_file(missing).unwrap().is_none());
    // A directory exists but cannot be read as a file: an error, as in confd.
    let dir = std::env::temp_dir();
    let e = read_config_file(&dir).unwrap_err();
    assert!(
        e.to_string().starts_with(&format!("cannot read config file {}: ", dir.display())),
        "{e}"
    );
}

#[test]
fn member_refresh_is_parsed_once_and_zero_turns_it_off() {
    let parsed = |flags: &[&str], file: Option<&str>| {
        let env = env(&[]);
        let loaded = load(&invocation(flags), file, &env)?;
        finish(loaded.config, None, &env).map(|c| c.member_refresh)
    };
    let secs = |s| Ok(Some(std::time::Duration::from_secs(s)));
    assert_eq!(parsed(&[], None).map_err(|e| e.to_string()), secs(30));
    assert_eq!(parsed(&["-member-refresh", "5s"], None).map_err(|e| e.to_string()), secs(5));
    assert_eq!(parsed(&["-member-refresh", "0"], None).map_err(|e| e.to_string()), Ok(None));
    let bad = parsed(&[], Some("member_refresh = \"soon\"\n")).unwrap_err().to_string();
    assert!(bad.contains("-member-refresh") && bad.contains("soon"), "{bad}");
}

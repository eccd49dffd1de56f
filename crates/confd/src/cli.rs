//! The command line, with the semantics of Go's `flag` package that confd uses, driven by one
//! table ([`FLAGS`]) that also gives the usage text and the `confd.toml` key of every flag.
//!
//! Go `flag` rules, reproduced:
//! - `-name` and `--name` are the same; a value is `-name value` or `-name=value`.
//! - A boolean is set by `-name` alone and never takes the next argument; only
//!   `-name=<strconv.ParseBool value>` (`false`, `0`, `f`, `F`, `FALSE`, `False`, …) changes it
//!   otherwise.
//! - `-node` and `-file` append on each use.
//! - `--` ends the flags; so does the first argument that is not a flag (`-` alone is not a
//!   flag). Everything after is ignored by confd; we return it so the caller can warn.
//! - An unknown flag or a bad value: the error, then the usage, on stderr, exit status 2.
//!   `-h`/`-help`: the usage on stderr, exit status 0.
//!
//! The parser never prints or exits: [`parse`] returns a [`Command`] saying what to do.

// Nothing calls this module yet: wired up in main (issue 3).
#![allow(dead_code)]

#[cfg(test)]
mod tests;

use crate::config::RawConfig;
use confd_core::resource::goparse::{self, NumErrorKind};
use confd_core::resource::WaitSpec;

/// The Go type of a flag, which decides how its value is parsed and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `flag.BoolVar`: bare `-name` means true.
    Bool,
    /// `flag.StringVar`.
    Str,
    /// `flag.IntVar`: `strconv.ParseInt(s, 0, 64)`.
    Int,
    /// `flag.Var` with confd's `util.Nodes`: each use appends.
    List,
}

/// Whose flag it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A flag of confd master (`config.go`).
    Confd,
    /// Ours; marked `(confd-rs)` in the usage text.
    ConfdRs,
}

/// How `confd.toml` can set the value of a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKey {
    /// The key that sets this flag's field (matched as BurntSushi/toml does: exactly, else
    /// case-insensitively).
    Sets(&'static str),
    /// The key is accepted but can have no effect (confd reads it after using the field).
    NoEffect(&'static str),
}

impl FileKey {
    /// The key name.
    pub fn name(self) -> &'static str {
        match self {
            FileKey::Sets(k) | FileKey::NoEffect(k) => k,
        }
    }
}

/// A mutable view of the [`RawConfig`] field behind a flag.
pub enum Slot<'a> {
    Bool(&'a mut bool),
    Str(&'a mut String),
    Int(&'a mut i64),
    List(&'a mut Vec<String>),
}

/// Validates a value of one of our flags: `Err` holds the reason.
pub type Check = fn(&str) -> Result<(), String>;

/// One flag.
pub struct FlagDef {
    pub name: &'static str,
    pub kind: Kind,
    /// Go's `DefValue`: the default as text, parsed into [`RawConfig`] by [`defaults`] and shown
    /// by the usage.
    pub default: &'static str,
    /// Go's usage string; a `back-quoted` word names the value in the usage, as in Go.
    pub help: &'static str,
    pub file_key: FileKey,
    pub origin: Origin,
    /// The field this flag writes.
    pub slot: fn(&mut RawConfig) -> Slot<'_>,
    /// Extra validation of a value at parse time (ours only; confd's flags take any string).
    pub check: Option<Check>,
}

impl FlagDef {
    /// Whether Go's `flag` shows a `(default …)` for it (`isZeroValue`).
    fn shows_default(&self) -> bool {
        match self.kind {
            Kind::Bool => self.default != "false",
            Kind::Str => !self.default.is_empty(),
            Kind::Int => self.default != "0",
            Kind::List => false,
        }
    }
}

macro_rules! flag {
    ($name:literal, $kind:ident, $field:ident, $default:literal, $key:expr, $help:literal) => {
        flag!(@ $name, $kind, $field, $default, $key, $help, Origin::Confd, None)
    };
    (ours $name:literal, $kind:ident, $field:ident, $default:literal, $key:expr, $check:expr, $help:literal) => {
        flag!(@ $name, $kind, $field, $default, $key, concat!($help, " (confd-rs)"), Origin::ConfdRs, $check)
    };
    (@ $name:expr, $kind:ident, $field:ident, $default:literal, $key:expr, $help:expr, $origin:expr, $check:expr) => {
        FlagDef {
            name: $name,
            kind: Kind::$kind,
            default: $default,
            help: $help,
            file_key: $key,
            origin: $origin,
            slot: |c| Slot::$kind(&mut c.$field),
            check: $check,
        }
    }
}

use FileKey::{NoEffect, Sets};

/// Every flag, sorted by name (the usage lists them in this order, as Go does). The help texts
/// are our own words.
pub static FLAGS: &[FlagDef] = &[
    flag!("app-id", Str, app_id, "", Sets("app_id"),
        "Vault app-id for -auth-type app-id (vault backend)"),
    flag!("auth-token", Str, auth_token, "", Sets("auth_token"), "bearer token for -auth-type token (vault backend)"),
    flag!("auth-type", Str, auth_type, "", Sets("auth_type"),
        "Vault authentication method: token, app-role, app-id, github, userpass, kubernetes or cert (vault backend)"),
    flag!("backend", Str, backend, "etcd", Sets("backend"), "where the keys come from: etcd, etcdv3, etcdv2, file, env, redis, zookeeper (implemented); consul, vault, dynamodb, ssm, rancher (not yet)"),
    flag!("basic-auth", Bool, basic_auth, "false", Sets("basic_auth"),
        "send -username and -password to the backend (etcd, etcdv2, consul)"),
    flag!(ours "check-config", Bool, check_config, "false", NoEffect("check_config"), None,
        "check confd.toml, every template resource and every template (with the full function map) without reading the store; list each error with its file and line, and exit 1 if there is one, else 0"),
    flag!("client-ca-keys", Str, client_ca_keys, "", Sets("client_cakeys"), "PEM file with the CA certificates that sign the backend's certificate"),
    flag!("client-cert", Str, client_cert, "", Sets("client_cert"), "PEM file with this client's TLS certificate"),
    flag!("client-insecure", Bool, client_insecure, "false", Sets("client_insecure"),
        "accepted for compatibility; has no effect (as in confd)"),
    flag!("client-key", Str, client_key, "", Sets("client_key"), "PEM file with this client's TLS private key (redis: the password, as in confd)"),
    flag!("confdir", Str, confdir, "/etc/confd", Sets("confdir"), "directory holding conf.d/ (template resources) and templates/"),
    flag!("config-file", Str, config_file, "/etc/confd/confd.toml", NoEffect("configfile"),
        "confd's own TOML configuration; its settings override these flags, as in confd"),
    flag!("file", List, files, "", Sets("file"),
        "YAML file or directory to read keys from; repeatable (file backend)"),
    flag!("filter", Str, filter, "*", Sets("filter"), "glob on file names inside -file directories (file backend)"),
    flag!(ours "fix-root-listing", Bool, fix_root_listing, "false", Sets("fix_root_listing"), None,
        "ls \"/\" lists every top-level name and lsdir \"/\" every top-level directory, instead of confd's top-level leaf keys and nothing (its issue #725); without it, a template whose output this would change is warned about"),
    flag!(ours "hold-time", Str, hold_time, "5m", Sets("hold_time"), Some(check_duration),
        "how long a held removal (see -max-removal) must stay the same before it is applied (Go duration); SIGUSR1 applies it at once; a resource's hold_time overrides it"),
    flag!("interval", Int, interval, "600", Sets("interval"), "seconds between passes in interval mode"),
    flag!("keep-stage-file", Bool, keep_stage_file, "false", Sets("keepstagefile"), "do not delete the stage file after a check failure, noop or in-sync run"),
    flag!(ours "log-format", Str, log_format, "text", Sets("log-format"), Some(check_log_format),
        "log line format: text (confd's) or json"),
    flag!("log-level", Str, log_level, "", Sets("log-level"), "least severe level to log: debug, info, warning, error, fatal"),
    flag!(ours "max-removal", Str, max_removal, "50%", Sets("max_removal"), Some(check_percent),
        "fail static: hold (keep dest and the server as they are, and say so) a change that would remove more than this percentage of the keys a resource read last time, as a wiped or restored store would; 100% never holds; a resource's max_removal overrides it"),
    flag!(ours "member-refresh", Str, member_refresh, "30s", Sets("member_refresh"), Some(check_duration),
        "etcd: read the cluster's member list at start and then this often, and use its members as the endpoints, so that member add and member remove are followed without a restart; -node is only where to start (endpoints that are not members, such as a grpc-proxy or a load balancer, are used as given) (Go duration; 0 = use -node as given)"),
    flag!(ours "metrics-addr", Str, metrics_addr, "", Sets("metrics_addr"), None,
        "serve /metrics (Prometheus), /health and /ready on `HOST:PORT`, e.g. 127.0.0.1:9420; nothing is served without it"),
    flag!(ours "min-reload-interval", Str, min_reload_interval, "1s", Sets("min_reload_interval"), Some(check_duration),
        "a reload command runs at most once per this interval (Go duration; 0 = no limit); a reload due sooner is deferred to the end of the interval, never dropped; a resource's min_reload_interval overrides it"),
    flag!("node", List, nodes, "", Sets("nodes"), "backend endpoint; repeatable"),
    flag!("noop", Bool, noop, "false", Sets("noop"), "show what would change (with a diff) without writing or running commands"),
    flag!("onetime", Bool, onetime, "false", Sets("onetime"), "process every resource once and exit (1 if any failed)"),
    flag!("password", Str, password, "", Sets("password"),
        "password for the backend (etcd and etcdv2 with -basic-auth, redis, consul, vault); prefer -password-file"),
    flag!(ours "password-env", Str, password_env, "", Sets("password_env"), None,
        "read the password from the environment variable `name` instead of -password"),
    flag!(ours "password-file", Str, password_file, "", Sets("password_file"), None,
        "read the password from `file` (trailing newlines dropped) instead of -password"),
    flag!("path", Str, path, "", Sets("path"),
        "Vault mount path of the authentication method (vault backend)"),
    flag!("prefix", Str, prefix, "", Sets("prefix"), "key prefix for every resource; replaces each resource's own prefix, as in confd"),
    flag!(ours "render-timeout", Str, render_timeout, "5s", Sets("render_timeout"), Some(check_render_timeout),
        "time budget of one template render (Go duration; 0 = none): a render that takes longer fails and dest stays as it was; a resource's render_timeout overrides it"),
    flag!("role-id", Str, role_id, "", Sets("role_id"),
        "Vault role-id for -auth-type app-role or kubernetes (vault backend)"),
    flag!("scheme", Str, scheme, "http", Sets("scheme"),
        "URL scheme (http or https) for etcd nodes found through SRV records"),
    flag!("secret-id", Str, secret_id, "", Sets("secret_id"),
        "Vault secret-id for -auth-type app-role (vault backend)"),
    flag!("separator", Str, separator, "", Sets("separator"),
        "character that stands for '/' in redis key names; the leading '/' is dropped (redis backend)"),
    flag!("srv-domain", Str, srv_domain, "", Sets("srv_domain"), "domain whose _<backend>._tcp SRV records list the backend nodes"),
    flag!("srv-record", Str, srv_record, "", Sets("srv_record"),
        "SRV record listing the backend nodes, e.g. _etcd-client._tcp.example.com"),
    flag!("sync-only", Bool, sync_only, "false", Sets("sync-only"), "replace changed files without running check_cmd or reload_cmd"),
    flag!("table", Str, table, "", Sets("table"),
        "DynamoDB table holding the keys (dynamodb backend)"),
    flag!("user-id", Str, user_id, "", Sets("user_id"),
        "Vault user-id for -auth-type app-id (vault backend)"),
    flag!("username", Str, username, "", Sets("username"),
        "user name for the backend (etcd and etcdv2 with -basic-auth, a redis ACL user, consul, vault)"),
    flag!("version", Bool, version, "false", NoEffect("printversion"), "print the version and exit"),
    flag!(ours "wait", Str, wait, "200ms:1s", Sets("wait"), Some(check_wait),
        "watch mode batching `quiet:max` (e.g. 500ms:5s): handle a burst of changes once the keys have been unchanged for quiet, at most max after its first change; 0 handles each change at once, as confd does"),
    flag!("watch", Bool, watch, "false", Sets("watch"), "react to changes in the backend instead of polling"),
];

fn check_wait(value: &str) -> Result<(), String> {
    WaitSpec::parse(value).map(|_| ())
}

fn check_duration(value: &str) -> Result<(), String> {
    confd_core::resource::parse_duration(value).map(|_| ())
}

fn check_percent(value: &str) -> Result<(), String> {
    confd_core::resource::parse_percent(value).map(|_| ())
}

fn check_render_timeout(value: &str) -> Result<(), String> {
    confd_core::resource::parse_timeout(value).map(|_| ())
}

fn check_log_format(value: &str) -> Result<(), String> {
    crate::config::LogFormat::parse(value).map(|_| ())
}

/// The flag called `name`, if any.
pub fn lookup(name: &str) -> Option<&'static FlagDef> {
    FLAGS.iter().find(|f| f.name == name)
}

/// A [`RawConfig`] holding every flag's default.
pub fn defaults() -> RawConfig {
    let mut config = RawConfig::default();
    for flag in FLAGS {
        if flag.kind != Kind::List {
            set(flag, &mut config, flag.default).expect("the flag table's defaults parse");
        }
    }
    config
}

/// What `main` should do after parsing the command line.
#[derive(Debug)]
pub enum Command {
    /// Go on: the flags' values over the defaults.
    Run(Box<Invocation>),
    /// `-h`/`-help`: print `usage` to stderr, exit 0.
    Help { usage: String },
    /// A bad command line: print `message`, a newline and `usage` to stderr, exit 2.
    Error { message: String, usage: String },
}

impl Command {
    /// What to print on stderr and the exit status, unless this is [`Command::Run`].
    pub fn stderr_and_exit(&self) -> Option<(String, i32)> {
        match self {
            Command::Run(_) => None,
            Command::Help { usage } => Some((usage.clone(), 0)),
            Command::Error { message, usage } => Some((format!("{message}\n{usage}"), 2)),
        }
    }
}

/// A parsed command line.
#[derive(Debug)]
pub struct Invocation {
    /// Defaults, overwritten by the flags given.
    pub config: RawConfig,
    /// Names of the flags given on the command line, each once, in first-use order (Go's
    /// `flag.Visit` set).
    pub set: Vec<&'static str>,
    /// Arguments after the first non-flag argument (or after `--`), which confd ignores.
    pub rest: Vec<String>,
}

impl Invocation {
    /// Whether the flag `name` was given on the command line.
    pub fn was_set(&self, name: &str) -> bool {
        self.set.contains(&name)
    }
}

/// The warning to log when arguments were left over, since confd ignores them silently
/// (`confd extra -onetime` runs the interval loop).
pub fn leftover_warning(rest: &[String]) -> Option<String> {
    let first = rest.first()?;
    Some(format!(
        "ignoring {} command-line argument(s) from {first:?} on: flags must come before any other \
         argument (confd ignores them too)",
        rest.len()
    ))
}

/// Parses the arguments after the program name. `program` is `argv[0]`, shown in the usage
/// (`Usage of confd:`), as Go does.
pub fn parse(program: &str, args: &[String]) -> Command {
    let mut config = defaults();
    let mut given: Vec<&'static str> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let Some(body) = flag_body(arg) else {
            break;
        };
        i += 1;
        let body = match body {
            FlagArg::End => break,
            FlagArg::Flag(body) => body,
        };
        if body.is_empty() || body.starts_with('-') || body.starts_with('=') {
            return error(program, format!("bad flag syntax: {arg}"));
        }
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        let Some(flag) = lookup(name) else {
            if name == "h" || name == "help" {
                return Command::Help { usage: usage(program) };
            }
            return error(program, format!("flag provided but not defined: -{name}"));
        };
        let value = match (flag.kind, inline) {
            (_, Some(v)) => v,
            (Kind::Bool, None) => "true",
            (_, None) => match args.get(i) {
                Some(next) => {
                    i += 1;
                    next
                }
                None => return error(program, format!("flag needs an argument: -{name}")),
            },
        };
        if let Err(message) = set(flag, &mut config, value) {
            return error(program, message);
        }
        if !given.contains(&flag.name) {
            given.push(flag.name);
        }
    }
    Command::Run(Box::new(Invocation { config, set: given, rest: args[i..].to_vec() }))
}

enum FlagArg<'a> {
    /// `--`
    End,
    /// The text after the dashes.
    Flag(&'a str),
}

/// Go: an argument is a flag if it is at least two bytes long and starts with `-`.
fn flag_body(arg: &str) -> Option<FlagArg<'_>> {
    if arg.len() < 2 || !arg.starts_with('-') {
        return None;
    }
    if arg == "--" {
        return Some(FlagArg::End);
    }
    let body = arg.strip_prefix("--").unwrap_or(&arg[1..]);
    Some(FlagArg::Flag(body))
}

fn error(program: &str, message: String) -> Command {
    Command::Error { message, usage: usage(program) }
}

/// Sets `flag` from `value` as Go's `flag.Value.Set` would, with Go's error texts.
pub fn set(flag: &FlagDef, config: &mut RawConfig, value: &str) -> Result<(), String> {
    let reason = |kind: NumErrorKind| match kind {
        NumErrorKind::Syntax => "parse error",
        NumErrorKind::Range => "value out of range",
    };
    if let Some(check) = flag.check {
        check(value)
            .map_err(|e| format!("invalid value {} for flag -{}: {e}", quote(value), flag.name))?;
    }
    match (flag.slot)(config) {
        Slot::Bool(b) => {
            *b = goparse::parse_bool(value).map_err(|e| {
                format!(
                    "invalid boolean value {} for -{}: {}",
                    quote(value),
                    flag.name,
                    reason(e.kind)
                )
            })?;
        }
        Slot::Str(s) => *s = value.to_string(),
        Slot::Int(n) => {
            *n = goparse::parse_int(value, 64).map_err(|e| {
                format!(
                    "invalid value {} for flag -{}: {}",
                    quote(value),
                    flag.name,
                    reason(e.kind)
                )
            })?;
        }
        Slot::List(list) => list.push(value.to_string()),
    }
    Ok(())
}

/// Go's `%q`.
fn quote(s: &str) -> String {
    gotmpl::gofmt::quote(s)
}

/// The usage text exactly as Go's `flag` package prints it (`Usage of <program>:` then
/// `PrintDefaults`).
/// One flag as documentation shows it (man page, shell completions): the same table and the
/// same value names and defaults as the usage.
pub struct FlagDoc {
    pub name: &'static str,
    /// The value's name (`string`, `HOST:PORT`…), empty for a boolean.
    pub value_name: String,
    pub help: String,
    /// The default, when Go's usage would show one.
    pub default: Option<&'static str>,
    pub kind: Kind,
}

/// Every flag, in the usage's order.
pub fn flag_docs() -> Vec<FlagDoc> {
    FLAGS
        .iter()
        .map(|flag| {
            let (value_name, help) = unquote_usage(flag);
            let default = flag.shows_default().then_some(flag.default);
            FlagDoc { name: flag.name, value_name, help, default, kind: flag.kind }
        })
        .collect()
}

pub fn usage(program: &str) -> String {
    let mut out = format!("Usage of {program}:\n");
    for flag in FLAGS {
        let (value_name, help) = unquote_usage(flag);
        let mut line = format!("  -{}", flag.name);
        if !value_name.is_empty() {
            line.push(' ');
            line.push_str(&value_name);
        }
        // Go puts the help of a one-letter boolean on the same line.
        if line.len() <= 4 {
            line.push('\t');
        } else {
            line.push_str("\n    \t");
        }
        line.push_str(&help.replace('\n', "\n    \t"));
        if flag.shows_default() {
            if flag.kind == Kind::Str {
                line.push_str(&format!(" (default {})", quote(flag.default)));
            } else {
                line.push_str(&format!(" (default {})", flag.default));
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Go's `flag.UnquoteUsage`: the first `back-quoted` word names the value and loses its
/// quotes; otherwise the name comes from the type.
fn unquote_usage(flag: &FlagDef) -> (String, String) {
    let help = flag.help;
    if let Some(start) = help.find('`') {
        if let Some(len) = help[start + 1..].find('`') {
            let name = &help[start + 1..start + 1 + len];
            let rest = format!("{}{name}{}", &help[..start], &help[start + 2 + len..]);
            return (name.to_string(), rest);
        }
    }
    let name = match flag.kind {
        Kind::Bool => "",
        Kind::Str => "string",
        Kind::Int => "int",
        Kind::List => "value",
    };
    (name.to_string(), help.to_string())
}

//! confd's own configuration, stage 1: [`RawConfig`] from the flags, then `confd.toml`, then the
//! environment, with the precedence confd *really* has (behaviour notes §1.3):
//!
//! 1. the flags over the defaults ([`crate::cli::parse`]);
//! 2. every key present in `confd.toml` **overrides** the flag (BurntSushi/toml decodes into
//!    the struct the flags were parsed into; `nodes` replaces `-node`, it does not append). A
//!    missing file is skipped; an unreadable or invalid one is an error. We warn when the file
//!    overrides a flag given on the command line, and about unknown keys;
//! 3. `CONFD_CLIENT_CAKEYS`, `CONFD_CLIENT_CERT`, `CONFD_CLIENT_KEY` fill only empty values;
//! 4. the log level is checked (`not a valid level: "x"`);
//! 5. `srv_domain` names the SRV record `_<backend>._tcp.<domain>.`; looking it up is I/O and
//!    belongs to the caller, who hands the result to [`finish`];
//! 6. default nodes per backend when there are none (`etcd`: `$ETCDCTL_PEERS` split on `,`,
//!    else `http://127.0.0.1:4001`);
//! 7. `-watch` with dynamodb/ssm, dynamodb without a table, and an unknown backend are errors.
//!
//! Everything here is pure except [`read_config_file`], which only reads the file. The
//! environment is passed in as a map.

// Nothing calls this module yet: wired up in main (issue 3).
#![allow(dead_code)]

mod file;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use confd_core::resource::WaitSpec;

use crate::cli::Invocation;

pub use file::apply_file;

/// The environment, as a map (pure and testable).
pub type Env = BTreeMap<String, String>;

/// Every setting, as flags and `confd.toml` give them; field names follow the flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawConfig {
    pub app_id: String,
    pub auth_token: String,
    pub auth_type: String,
    pub backend: String,
    pub basic_auth: bool,
    /// `-check-config`: check the confdir and exit (confd-rs).
    pub check_config: bool,
    pub client_ca_keys: String,
    pub client_cert: String,
    pub client_insecure: bool,
    pub client_key: String,
    pub confdir: String,
    pub config_file: String,
    /// `-file`, repeatable.
    pub files: Vec<String>,
    pub filter: String,
    /// Seconds.
    pub interval: i64,
    pub keep_stage_file: bool,
    pub log_level: String,
    /// `-node`, repeatable; `nodes` in confd.toml.
    pub nodes: Vec<String>,
    pub noop: bool,
    pub onetime: bool,
    pub password: String,
    pub path: String,
    pub prefix: String,
    pub role_id: String,
    pub scheme: String,
    pub secret_id: String,
    pub separator: String,
    pub srv_domain: String,
    pub srv_record: String,
    pub sync_only: bool,
    pub table: String,
    pub user_id: String,
    pub username: String,
    pub version: bool,
    pub watch: bool,
    // Ours (confd-rs).
    /// `-log-format`: `text` or `json`.
    pub log_format: String,
    /// `-password-env`: the variable holding the password.
    pub password_env: String,
    /// `-password-file`: the file holding the password (read by the caller).
    pub password_file: String,
    /// `-wait`: `quiet:max` or `0`.
    pub wait: String,
    /// `-render-timeout`: a Go duration, `0` = no limit.
    pub render_timeout: String,
    /// `-min-reload-interval`: a Go duration.
    pub min_reload_interval: String,
    /// `-max-removal`: a percentage.
    pub max_removal: String,
    /// `-hold-time`: a Go duration.
    pub hold_time: String,
    /// `-metrics-addr`: where to serve /metrics, /health and /ready; empty = nowhere.
    pub metrics_addr: String,
    /// `-fix-root-listing`: `ls "/"` and `lsdir "/"` corrected (confd#725).
    pub fix_root_listing: bool,
    /// `-member-refresh`: a Go duration, `0` = off.
    pub member_refresh: String,
}

/// What a resource's reconciler policy falls back to (see `confd_core::reconcile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconcileDefaults {
    pub min_reload_interval: std::time::Duration,
    /// A percentage, 0 to 100.
    pub max_removal: u8,
    pub hold_time: std::time::Duration,
}

/// The backends confd knows (`backends.New`), and `etcdv2` (confd 0.16's `etcd`: the v2 API).
pub const BACKENDS: &[&str] = &[
    "consul",
    "dynamodb",
    "env",
    "etcd",
    "etcdv3",
    "etcdv2",
    "file",
    "rancher",
    "redis",
    "ssm",
    "vault",
    "zookeeper",
];

/// logrus' levels, as `log.SetLevel` accepts them (case-insensitively).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Panic,
    Fatal,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    /// logrus `ParseLevel`; `""` is confd's default, info.
    pub fn parse(text: &str) -> Result<LogLevel, ConfigError> {
        Ok(match text.to_lowercase().as_str() {
            "" | "info" => LogLevel::Info,
            "panic" => LogLevel::Panic,
            "fatal" => LogLevel::Fatal,
            "error" => LogLevel::Error,
            "warn" | "warning" => LogLevel::Warn,
            "debug" => LogLevel::Debug,
            "trace" => LogLevel::Trace,
            _ => return Err(ConfigError::LogLevel(text.to_string())),
        })
    }
}

/// `-log-format` (ours).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// confd's line format.
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    pub fn parse(text: &str) -> Result<LogFormat, String> {
        match text {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err("want text or json".to_string()),
        }
    }
}

/// Something confd accepts silently that is probably a mistake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The config file, when the warning is about it.
    pub path: Option<PathBuf>,
    pub line: Option<usize>,
    /// The key or flag concerned.
    pub key: Option<String>,
    pub message: String,
}

impl Warning {
    fn general(key: &str, message: String) -> Warning {
        Warning { path: None, line: None, key: Some(key.to_string()), message }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.path, self.line) {
            (Some(p), Some(l)) => write!(f, "{}:{l}: {}", p.display(), self.message),
            (Some(p), None) => write!(f, "{}: {}", p.display(), self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// Why confd cannot start. All are fatal (exit status 1), as in confd.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The config file exists but cannot be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    /// The config file is not valid TOML.
    #[error("{}{}: invalid TOML: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Syntax { path: PathBuf, line: Option<usize>, message: String },
    /// A key of the config file has the wrong type.
    #[error("{}:{line}: {key}: expected {expected}, found {found}", path.display())]
    Type { path: PathBuf, line: usize, key: String, expected: &'static str, found: &'static str },
    /// An integer that does not fit.
    #[error("{}:{line}: {key}: {value} is out of range", path.display())]
    Range { path: PathBuf, line: usize, key: String, value: String },
    /// confd's text (`log.SetLevel`).
    #[error("not a valid level: \"{0}\"")]
    LogLevel(String),
    /// confd's `Invalid backend`, with the name and the choices.
    #[error("Invalid backend {}: want one of {}", gotmpl::gofmt::quote(.0), BACKENDS.join(", "))]
    Backend(String),
    /// confd logs this at INFO and exits 1.
    #[error("Watch is not supported for backend {0}. Exiting...")]
    WatchUnsupported(String),
    /// confd's text.
    #[error("No DynamoDB table configured")]
    NoDynamoDbTable,
    /// A bad value for one of our settings (`-wait`, `-log-format`).
    #[error("invalid {setting} {}: {message}", gotmpl::gofmt::quote(value))]
    Value { setting: &'static str, value: String, message: String },
    /// More than one of `-password`, `-password-file`, `-password-env`.
    #[error("the password is given more than once ({0}); give only one of -password, -password-file, -password-env")]
    PasswordSources(String),
    /// `-password-env NAME` but `NAME` is unset or empty.
    #[error("-password-env: environment variable {0} is not set or empty")]
    PasswordEnv(String),
}

/// The result of [`load`]: the configuration (before SRV lookup and default nodes) and what to
/// warn about.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<Warning>,
}

/// The configuration confd runs with, built once from the flags, confd.toml and the
/// environment: the settings as given (`raw`; the backend reads its fields) and every value
/// of ours parsed, so nothing is parsed again where it is used.
#[derive(Debug, Clone)]
pub struct Config {
    pub raw: RawConfig,
    pub log_level: LogLevel,
    pub log_format: LogFormat,
    /// `-wait`: the watch's batching window.
    pub wait: WaitSpec,
    /// `-render-timeout`: zero = no limit.
    pub render_timeout: std::time::Duration,
    pub reconcile: ReconcileDefaults,
    /// `-member-refresh`: how often etcd's member list is read; `None` = not at all.
    pub member_refresh: Option<std::time::Duration>,
}

impl Config {
    fn parse(raw: RawConfig) -> Result<Config, ConfigError> {
        Ok(Config {
            log_level: raw.log_level()?,
            log_format: raw.log_format()?,
            wait: raw.wait_spec()?,
            render_timeout: raw.render_timeout()?,
            reconcile: raw.reconcile_defaults()?,
            member_refresh: raw.member_refresh()?,
            raw,
        })
    }
}

/// Reads the config file: `Ok(None)` if it does not exist (confd skips it silently), an error
/// if it exists but cannot be read (confd: fatal).
pub fn read_config_file(path: &Path) -> Result<Option<String>, ConfigError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::Read { path: path.to_path_buf(), source }),
    }
}

/// Steps 2–5 of confd's `initConfig` over the parsed command line: `file_text` is the config
/// file's text (`None` when it does not exist), read from `invocation.config.config_file`.
pub fn load(
    invocation: &Invocation,
    file_text: Option<&str>,
    env: &Env,
) -> Result<Loaded, ConfigError> {
    let mut config = invocation.config.clone();
    let mut warnings = Vec::new();
    if let Some(text) = file_text {
        let path = PathBuf::from(&invocation.config.config_file);
        warnings = apply_file(&mut config, &path, text, &invocation.set)?;
    }
    apply_env(&mut config, env);
    resolve_password_env(&mut config, env)?;
    if config.client_insecure {
        warnings.push(Warning::general(
            "client-insecure",
            "-client-insecure (client_insecure) has no effect, as in confd".into(),
        ));
    }
    name_srv_record(&mut config, &mut warnings);
    Ok(Loaded { config: Config::parse(config)?, warnings })
}

/// Steps 5–7: `srv_nodes` are the `host:port`s the SRV lookup found (`None` if there was no
/// lookup, see [`RawConfig::needs_srv_lookup`]); then default nodes and the backend checks.
pub fn finish(
    mut config: Config,
    srv_nodes: Option<Vec<String>>,
    env: &Env,
) -> Result<Config, ConfigError> {
    if let Some(found) = srv_nodes {
        config.raw.apply_srv_nodes(found);
    }
    config.raw.apply_default_nodes(env);
    config.raw.check_backend()?;
    Ok(config)
}

/// Step 3: `CONFD_CLIENT_*` fill the TLS settings that are still empty.
pub fn apply_env(config: &mut RawConfig, env: &Env) {
    let pairs = [
        ("CONFD_CLIENT_CAKEYS", &mut config.client_ca_keys),
        ("CONFD_CLIENT_CERT", &mut config.client_cert),
        ("CONFD_CLIENT_KEY", &mut config.client_key),
    ];
    for (var, field) in pairs {
        match env.get(var) {
            Some(value) if !value.is_empty() && field.is_empty() => *field = value.clone(),
            _ => {}
        }
    }
}

fn resolve_password_env(config: &mut RawConfig, env: &Env) -> Result<(), ConfigError> {
    let sources: Vec<&str> = [
        (!config.password.is_empty(), "-password"),
        (!config.password_file.is_empty(), "-password-file"),
        (!config.password_env.is_empty(), "-password-env"),
    ]
    .into_iter()
    .filter_map(|(given, name)| given.then_some(name))
    .collect();
    if sources.len() > 1 {
        return Err(ConfigError::PasswordSources(sources.join(", ")));
    }
    if !config.password_env.is_empty() {
        match env.get(&config.password_env) {
            Some(value) if !value.is_empty() => config.password = value.clone(),
            _ => return Err(ConfigError::PasswordEnv(config.password_env.clone())),
        }
    }
    Ok(())
}

/// The password in a `-password-file`: its text without trailing newlines.
pub fn password_from_file_text(text: &str) -> String {
    text.trim_end_matches(['\n', '\r']).to_string()
}

fn name_srv_record(config: &mut RawConfig, warnings: &mut Vec<Warning>) {
    if config.srv_domain.is_empty() || !config.srv_record.is_empty() {
        return;
    }
    config.srv_record = format!("_{}._tcp.{}.", config.backend, config.srv_domain);
    if config.backend.starts_with("etcd") {
        warnings.push(Warning::general(
            "srv-domain",
            format!(
                "-srv-domain looks up {} (confd's naming); etcd publishes _etcd-client._tcp.{}, \
                 name it with -srv-record if that is what you mean",
                config.srv_record, config.srv_domain
            ),
        ));
    }
}

impl RawConfig {
    /// The log level (`""` = info).
    pub fn log_level(&self) -> Result<LogLevel, ConfigError> {
        LogLevel::parse(&self.log_level)
    }

    pub fn log_format(&self) -> Result<LogFormat, ConfigError> {
        LogFormat::parse(&self.log_format).map_err(|message| ConfigError::Value {
            setting: "-log-format",
            value: self.log_format.clone(),
            message,
        })
    }

    /// The global watch-mode debounce window.
    pub fn wait_spec(&self) -> Result<WaitSpec, ConfigError> {
        WaitSpec::parse(&self.wait).map_err(|message| ConfigError::Value {
            setting: "-wait",
            value: self.wait.clone(),
            message,
        })
    }

    /// The global time budget of one render (`-render-timeout`); zero = no limit.
    pub fn render_timeout(&self) -> Result<std::time::Duration, ConfigError> {
        confd_core::resource::parse_timeout(&self.render_timeout).map_err(|message| {
            ConfigError::Value {
                setting: "-render-timeout",
                value: self.render_timeout.clone(),
                message,
            }
        })
    }

    /// `-member-refresh`; `None` for `0`.
    pub fn member_refresh(&self) -> Result<Option<std::time::Duration>, ConfigError> {
        let every =
            confd_core::resource::parse_duration(&self.member_refresh).map_err(|message| {
                ConfigError::Value {
                    setting: "-member-refresh",
                    value: self.member_refresh.clone(),
                    message,
                }
            })?;
        Ok((!every.is_zero()).then_some(every))
    }

    /// The reconciler's global defaults: `-min-reload-interval`, `-max-removal`, `-hold-time`.
    pub fn reconcile_defaults(&self) -> Result<ReconcileDefaults, ConfigError> {
        use confd_core::resource::{parse_duration, parse_percent};
        let value = |setting: &'static str, value: &String| {
            let value = value.clone();
            move |message| ConfigError::Value { setting, value, message }
        };
        Ok(ReconcileDefaults {
            min_reload_interval: parse_duration(&self.min_reload_interval)
                .map_err(value("-min-reload-interval", &self.min_reload_interval))?,
            max_removal: parse_percent(&self.max_removal)
                .map_err(value("-max-removal", &self.max_removal))?,
            hold_time: parse_duration(&self.hold_time)
                .map_err(value("-hold-time", &self.hold_time))?,
        })
    }

    /// `<confdir>/conf.d`, cleaned as Go's `filepath.Join`.
    pub fn conf_d_dir(&self) -> PathBuf {
        PathBuf::from(confd_kv::gopath::join(&[&self.confdir, "conf.d"]))
    }

    /// `<confdir>/templates`, cleaned as Go's `filepath.Join`.
    pub fn template_dir(&self) -> PathBuf {
        PathBuf::from(confd_kv::gopath::join(&[&self.confdir, "templates"]))
    }

    /// Whether the caller must look up `srv_record` and pass the result to [`finish`].
    pub fn needs_srv_lookup(&self) -> bool {
        self.backend != "env" && !self.srv_record.is_empty()
    }

    /// Nodes found by SRV replace the list; for `etcd` each becomes `<scheme>://host:port`.
    pub fn apply_srv_nodes(&mut self, found: Vec<String>) {
        self.nodes = if self.backend == "etcd" {
            found.into_iter().map(|n| format!("{}://{n}", self.scheme)).collect()
        } else {
            found
        };
    }

    /// confd's default nodes when the list is empty.
    pub fn apply_default_nodes(&mut self, env: &Env) {
        if !self.nodes.is_empty() {
            return;
        }
        let one = |s: &str| vec![s.to_string()];
        self.nodes = match self.backend.as_str() {
            "consul" => one("127.0.0.1:8500"),
            "etcd" => match env.get("ETCDCTL_PEERS") {
                Some(peers) if !peers.is_empty() => peers.split(',').map(String::from).collect(),
                _ => one("http://127.0.0.1:4001"),
            },
            "etcdv3" => one("127.0.0.1:2379"),
            "etcdv2" => one("http://127.0.0.1:2379"),
            "redis" => one("127.0.0.1:6379"),
            "vault" => one("http://127.0.0.1:8200"),
            "zookeeper" => one("127.0.0.1:2181"),
            _ => Vec::new(),
        };
    }

    /// confd's checks after `initConfig`, in its order.
    pub fn check_backend(&self) -> Result<(), ConfigError> {
        if self.watch && matches!(self.backend.as_str(), "dynamodb" | "ssm") {
            return Err(ConfigError::WatchUnsupported(self.backend.clone()));
        }
        if self.backend == "dynamodb" && self.table.is_empty() {
            return Err(ConfigError::NoDynamoDbTable);
        }
        if !BACKENDS.contains(&self.backend.as_str()) {
            return Err(ConfigError::Backend(self.backend.clone()));
        }
        Ok(())
    }
}

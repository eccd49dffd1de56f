//! confd: drop-in replacement for kelseyhightower/confd.
//!
//! Start-up: command line (Go `flag` rules) → `confd.toml` (which, as in confd, overrides the
//! flags) → environment → logging → template resources → backend → mode (`-onetime`,
//! `-watch`, or interval).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use confd_apply::Options;
use confd_core::funcs::SystemHost;

use confd::backend::Backend;
use confd::config::{Config, LogFormat, LogLevel};
use confd::metrics::Metrics;
use confd::process::{Settings, UntilExit};
use confd::run::Source;
use confd::{cli, config, log, run};
use prometheus_client::registry::Registry;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn main() -> ExitCode {
    confd::memory::use_one_arena();
    let args: Vec<String> = std::env::args().collect();
    let program = args.first().map_or("confd", String::as_str).to_string();
    let invocation = match cli::parse(&program, args.get(1..).unwrap_or(&[])) {
        cli::Command::Run(inv) => inv,
        other => {
            let (text, code) = other.stderr_and_exit().unwrap_or_default();
            eprint!("{text}");
            return ExitCode::from(code as u8);
        }
    };
    if invocation.config.version {
        println!(
            "confd {VERSION} (confd-rs, compatible with kelseyhightower/confd master 919444eb)"
        );
        return ExitCode::SUCCESS;
    }
    if invocation.config.check_config {
        return check_config(&invocation);
    }
    match configure(&invocation) {
        Ok(config) => start(&config),
        Err(e) => {
            log::log(log::Level::Fatal, &e);
            ExitCode::FAILURE
        }
    }
}

/// `-check-config`: confd.toml, then every resource and template; no store, no password file,
/// no DNS. Each problem is one ERROR line; exit 1 if there is any.
fn check_config(invocation: &cli::Invocation) -> ExitCode {
    let env: config::Env = std::env::vars().collect();
    let path = PathBuf::from(&invocation.config.config_file);
    let loaded = config::read_config_file(&path).map_err(|e| e.to_string()).and_then(|text| {
        config::load(invocation, text.as_deref(), &env).map_err(|e| e.to_string())
    });
    let loaded = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            log::error!("{e}");
            log::error!("-check-config: 1 error");
            return ExitCode::FAILURE;
        }
    };
    set_up_logging(&loaded.config);
    for w in &loaded.warnings {
        log::warning!("{w}");
    }
    let raw = &loaded.config.raw;
    let checked = confd::check::check_confdir(Path::new(&raw.confdir), &raw.prefix);
    for w in &checked.warnings {
        log::warning!("{w}");
    }
    for e in &checked.errors {
        log::error!("{e}");
    }
    if checked.errors.is_empty() {
        log::info!(
            "-check-config: {} resources and {} templates in {} are valid",
            checked.resources,
            checked.templates,
            raw.confdir
        );
        ExitCode::SUCCESS
    } else {
        let n = checked.errors.len();
        log::error!("-check-config: {n} error{} in {}", if n == 1 { "" } else { "s" }, raw.confdir);
        ExitCode::FAILURE
    }
}

/// Reads confd.toml and the environment over the flags, sets up logging and logs warnings.
fn configure(invocation: &cli::Invocation) -> Result<Config, String> {
    let env: config::Env = std::env::vars().collect();
    let path = PathBuf::from(&invocation.config.config_file);
    let text = config::read_config_file(&path).map_err(|e| e.to_string())?;
    let loaded = config::load(invocation, text.as_deref(), &env).map_err(|e| e.to_string())?;
    let mut config = loaded.config;
    set_up_logging(&config);
    if text.is_some() {
        log::debug!("Loading config file {}", path.display());
    }
    for w in &loaded.warnings {
        log::warning!("{w}");
    }
    if let Some(w) = cli::leftover_warning(&invocation.rest) {
        log::warning!("{w}");
    }
    let raw = &mut config.raw;
    if !raw.password_file.is_empty() {
        let text = std::fs::read_to_string(&raw.password_file)
            .map_err(|e| format!("-password-file {}: {e}", raw.password_file))?;
        raw.password = config::password_from_file_text(&text);
    }
    let srv_nodes = if raw.needs_srv_lookup() {
        let records = confd_core::host::dns::lookup_srv("", "", &raw.srv_record);
        let nodes = srv_nodes(&records);
        if nodes.is_empty() {
            return Err(format!(
                "Cannot get nodes from SRV records {}: no records found (check -srv-record/-srv-domain and DNS)",
                raw.srv_record
            ));
        }
        log::info!("Nodes from SRV records {}: {}", raw.srv_record, nodes.join(", "));
        Some(nodes)
    } else {
        None
    };
    config::finish(config, srv_nodes, &env).map_err(|e| e.to_string())
}

/// `host:port` for each SRV record, in the order DNS gave them (the target's final dot
/// dropped, as confd does).
fn srv_nodes(records: &[confd_core::funcs::Srv]) -> Vec<String> {
    records.iter().map(|r| format!("{}:{}", r.target.trim_end_matches('.'), r.port)).collect()
}

fn set_up_logging(config: &Config) {
    log::set_level(match config.log_level {
        LogLevel::Trace | LogLevel::Debug => log::Level::Debug,
        LogLevel::Info => log::Level::Info,
        LogLevel::Warn => log::Level::Warning,
        LogLevel::Error => log::Level::Error,
        LogLevel::Fatal | LogLevel::Panic => log::Level::Fatal,
    });
    log::set_json(config.log_format == LogFormat::Json);
}

fn start(config: &Config) -> ExitCode {
    let started = std::time::SystemTime::now();
    log::info!("Starting confd");
    let raw = &config.raw;
    let backend = match Backend::from_config(config) {
        Ok(b) => b,
        Err(e) => {
            log::log(log::Level::Fatal, &e);
            return ExitCode::FAILURE;
        }
    };
    // As confd: the name as given (`etcdv3` stays `etcdv3`).
    log::info!("Backend set to {}", raw.backend);
    let settings = Settings {
        options: Options {
            noop: raw.noop,
            sync_only: raw.sync_only,
            keep_stage_file: raw.keep_stage_file,
        },
        host: Arc::new(SystemHost::new()),
        cancel: confd_apply::Cancel::new(),
        notices: Default::default(),
        render_timeout: config.render_timeout,
        reconcile: config.reconcile,
        metrics: Arc::new(Metrics::default()),
        status: confd_metrics::Status::new("starting: nothing has rendered yet"),
        root_listing: if raw.fix_root_listing {
            confd_core::funcs::RootListing::All
        } else {
            confd_core::funcs::RootListing::Confd
        },
        until_exit: if raw.onetime { UntilExit::enabled() } else { UntilExit::default() },
    };
    if !raw.metrics_addr.is_empty() {
        let mut registry = Registry::default();
        settings.metrics.register(&mut registry);
        match confd_metrics::serve(&raw.metrics_addr, Arc::new(registry), settings.status.clone()) {
            Ok(addr) => log::info!("Serving /metrics, /health and /ready on http://{addr}"),
            Err(e) => {
                log::log(
                    log::Level::Fatal,
                    &format!("-metrics-addr {}: cannot listen there: {e}", raw.metrics_addr),
                );
                return ExitCode::FAILURE;
            }
        }
    }
    let source = Source {
        confdir: Path::new(&raw.confdir).to_path_buf(),
        prefix: raw.prefix.clone(),
        stale_stage_files_before: (!raw.keep_stage_file).then_some(started),
    };
    if raw.onetime {
        return run::onetime(&source, &backend, &settings);
    }
    if raw.watch {
        return run::watch(&source, &backend, &settings, config.wait);
    }
    let every = Duration::from_secs(raw.interval.max(1) as u64);
    run::interval(&source, &backend, &settings, every)
}

#[cfg(test)]
mod tests {
    use confd_core::funcs::Srv;

    #[test]
    fn srv_records_become_host_port_nodes() {
        let srv = |t: &str, port| Srv { target: t.into(), port, priority: 0, weight: 0 };
        let nodes =
            super::srv_nodes(&[srv("etcd1.example.com.", 2379), srv("etcd2.example.com", 2380)]);
        assert_eq!(nodes, ["etcd1.example.com:2379", "etcd2.example.com:2380"]);
    }
}

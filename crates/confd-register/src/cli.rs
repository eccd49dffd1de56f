//! The command line: a small parser (`--name value`, `--name=value`, one dash or two), and the
//! validation of everything that will be written to etcd — before anything is.
//!
//! Values end up in nginx's configuration (`server ADDR;`, `server_name DOMAINS;`), so they are
//! held to what they claim to be: an address is `host:port`, a domain is a DNS name, names and
//! instance ids are `[A-Za-z0-9._-]+`, and no value may carry whitespace, quotes, `;`, `{`,
//! `}`, `#`, `$` or `\`, with which a value could end a directive and start another.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Duration;

use crate::check::Check;

pub const USAGE: &str = "\
Usage: confd-register [options]
       confd-register docker [options]   (register Docker containers; see docker --help)

Registers this service instance in etcd while it is healthy, under a lease that it keeps
alive. Unhealthy or stopped (SIGTERM, SIGINT): its keys are deleted at once. Killed: they
expire with the lease.

Keys (the prefix selects the data centre):
  <prefix>/subdomain/<service>            = the --domain names, space-separated (no lease:
                                            shared by all instances of the service)
  <prefix>/upstream/<service>/<instance>  = --addr (under the lease)
  <prefix>/<K>                            = V for each --key K=V (under the lease)

What to register:
  --prefix PATH          key prefix, e.g. /service_sgin (default /)
  --service NAME         service name ([A-Za-z0-9._-]+)
  --domain NAME          a domain name of the service, e.g. www.example.com or *.example.com
                         (repeat for more)
  --addr HOST:PORT       this instance's address, e.g. 10.0.0.5:8080 or [fd00::5]:8080
  --instance ID          instance id (default: <hostname>-<addr>, e.g. web1-10.0.0.5_8080)
  --key K=V              another key under the lease, relative to the prefix (repeatable);
                         with only --key and no --service, a purely generic registration

Health (without a check the instance counts as healthy while the agent runs):
  --check URL            http://HOST[:PORT][/PATH] (healthy: status 2xx or 3xx) or
                         tcp://HOST:PORT (healthy: the connection is accepted)
  --check-cmd CMD        a command run with /bin/sh -c (healthy: exit status 0)
  --interval D           time between checks (default 5s; units ms, s, m, h)
  --start-interval D     time between checks while not healthy (default 250ms, at most
                         --interval): a service that starts answering is registered soon
  --timeout D            time limit of one check (default 2s, at most --interval)
  --rise N               consecutive successes to become healthy (default 2)
  --fall N               consecutive failures to become unhealthy (default 3)
  --ttl SECONDS          lease TTL: how long keys outlive a killed agent (default 10)

etcd (as confd):
  --node URL             etcd endpoint: HOST:PORT, http://HOST:PORT or https://HOST:PORT
                         (repeat for more; default http://127.0.0.1:2379)
  --username NAME        etcd user
  --password-file FILE   read the password from FILE (trailing newlines dropped)
  --password-env NAME    read the password from the environment variable NAME
  --password PASSWORD    the password itself (visible in ps: prefer the two above)
  --client-ca-keys FILE  PEM CA certificates that sign the etcd servers' certificates
  --client-cert FILE     PEM client certificate
  --client-key FILE      PEM client key
  --member-refresh D     read etcd's member list at start and then this often, and use its
                         members as the endpoints: member add/remove are followed without a
                         restart; --node is only where to start (endpoints that are not
                         members, e.g. a grpc-proxy, are used as given) (default 30s; 0: off)

Operations:
  --metrics-addr HOST:PORT  serve /metrics (Prometheus), /health and /ready there (off
                         without it); under systemd (Type=notify) READY=1 is sent at the
                         first registration decision and WATCHDOG=1 while running

  -h, --help             this help
  --version              the version

Exit status: 0 after SIGTERM/SIGINT, 1 when etcd refuses for good (wrong password, permission
denied, TLS), 2 for invalid options.
";

pub const DOCKER_USAGE: &str = "\
Usage: confd-register docker [options]

Registers the containers of the local Docker engine that opt in by labels, while Docker
reports them healthy (or running, for a container without a healthcheck), under one lease
that this agent keeps alive. A container that turns unhealthy, stops, dies or is removed is
deregistered at once; when the agent is killed, the keys expire with the lease. On start and
after reconnecting to Docker it resynchronises both ways: it registers what runs and deletes
what it registered for containers that are gone (also those left by an earlier run).

Labels (with the default --label-prefix confd):
  confd.service=NAME      opts the container in: its service name ([A-Za-z0-9._-]+)
  confd.domains=D1,D2     the service's domain names (comma- or space-separated), written to
                          <prefix>/subdomain/NAME without a lease (optional)
  confd.port=PORT         the container port the service listens on (optional when the image
                          exposes exactly one TCP port)
  confd.network=NET       with --address container: the network whose IP address to register
                          (default --network, or the container's only network)

Keys:
  <prefix>/subdomain/<service>                    = the domains (no lease)
  <prefix>/upstream/<service>/<node>-<id>         = HOST:PORT (under the lease); <id> is the
                                                    first 12 digits of the container id

Options:
  --prefix PATH          key prefix, e.g. /service_sgin (default /)
  --address MODE         container: the container's IP address and its port (default);
                         host: --host-ip (or the address the port is published on) and the
                         published host port
  --network NAME         with --address container: the network to take the address from
  --host-ip IP           with --address host: this host's address as the proxies reach it
  --node-name NAME       first part of the instance ids, unique to this host (default: the
                         host name; set it when the agent runs in a container, whose host
                         name changes with every run)
  --label-prefix P       label namespace (default confd)
  --docker-host URL      unix:///PATH of the Engine API (default $DOCKER_HOST, or
                         unix:///var/run/docker.sock)
  --ttl SECONDS          lease TTL: how long keys outlive a killed agent (default 10)

etcd: --node, --username, --password-file, --password-env, --password, --client-ca-keys,
--client-cert, --client-key, --member-refresh, and --metrics-addr, as in confd-register --help.

Exit status: 0 after SIGTERM/SIGINT, 1 when etcd refuses for good, 2 for invalid options.
";

/// Options that take a value, in both modes: etcd's, the prefix and the lease.
pub const COMMON_OPTIONS: &[&str] = &[
    "node",
    "prefix",
    "ttl",
    "username",
    "password",
    "password-file",
    "password-env",
    "client-ca-keys",
    "client-cert",
    "client-key",
    "member-refresh",
    "metrics-addr",
];

/// Options of the agent mode that take a value. `-h`, `--help` and `--version` take none.
pub const AGENT_OPTIONS: &[&str] = &[
    "service",
    "domain",
    "addr",
    "instance",
    "key",
    "check",
    "check-cmd",
    "interval",
    "start-interval",
    "timeout",
    "rise",
    "fall",
];

/// Options that may be given more than once.
const REPEATABLE: &[&str] = &["node", "domain", "key"];

pub enum Parsed {
    Help,
    DockerHelp,
    Version,
    Run(Box<Config>),
    Docker(Box<DockerConfig>),
}

/// Options of `confd-register docker` that take a value.
pub const DOCKER_OPTIONS: &[&str] =
    &["docker-host", "label-prefix", "address", "network", "host-ip", "node-name"];

/// Everything the Docker mode needs, validated.
#[derive(Debug)]
pub struct DockerConfig {
    pub etcd: confd_etcd::EtcdConfig,
    /// `--metrics-addr`: where to serve /metrics, /health and /ready.
    pub metrics_addr: Option<String>,
    pub ttl: i64,
    /// The Engine API's unix socket.
    pub socket: PathBuf,
    pub rules: crate::docker::container::Rules,
    pub warnings: Vec<String>,
}

/// Everything the agent needs, validated.
#[derive(Debug)]
pub struct Config {
    pub etcd: confd_etcd::EtcdConfig,
    /// `--metrics-addr`: where to serve /metrics, /health and /ready.
    pub metrics_addr: Option<String>,
    pub registration: Registration,
    pub check: Check,
    pub interval: Duration,
    /// Between checks while the instance is not healthy (at most `interval`).
    pub start_interval: Duration,
    pub timeout: Duration,
    pub rise: u32,
    pub fall: u32,
    pub ttl: i64,
    /// Said once at start.
    pub warnings: Vec<String>,
}

/// What is written, in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// Written without a lease (the service's domains): never deleted by the agent.
    pub shared: Vec<(String, String)>,
    /// Written under the lease: deleted when unhealthy or stopped, expire when killed.
    pub leased: Vec<(String, String)>,
}

impl Registration {
    pub fn leased_keys(&self) -> Vec<String> {
        self.leased.iter().map(|(k, _)| k.clone()).collect()
    }

    pub fn all_keys(&self) -> Vec<String> {
        self.shared.iter().chain(&self.leased).map(|(k, _)| k.clone()).collect()
    }
}

/// What the command line said, before validation.
#[derive(Default)]
struct Raw {
    values: Vec<(&'static str, String)>,
}

impl Raw {
    fn one(&self, name: &str) -> Option<&str> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.values.iter().filter(|(n, _)| *n == name).map(|(_, v)| v.as_str()).collect()
    }
}

/// Parses and validates the arguments (without the program name). `env` looks up
/// environment variables (for `--password-env`); `hostname` is for the default instance id.
/// The error is one line, without the program name.
pub fn parse(
    args: &[String],
    env: &dyn Fn(&str) -> Option<String>,
    hostname: &str,
) -> Result<Parsed, String> {
    if args.first().map(String::as_str) == Some("docker") {
        return match tokenize(&args[1..], DOCKER_OPTIONS)? {
            Tokens::Help => Ok(Parsed::DockerHelp),
            Tokens::Version => Ok(Parsed::Version),
            Tokens::Options(raw) => {
                validate_docker(&raw, env, hostname).map(|c| Parsed::Docker(Box::new(c)))
            }
        };
    }
    match tokenize(args, AGENT_OPTIONS)? {
        Tokens::Help => Ok(Parsed::Help),
        Tokens::Version => Ok(Parsed::Version),
        Tokens::Options(raw) => validate(&raw, env, hostname).map(|c| Parsed::Run(Box::new(c))),
    }
}

enum Tokens {
    Help,
    Version,
    Options(Raw),
}

/// Splits `--name value`, `--name=value` (one dash or two) into options: the common ones and
/// those of the mode (`mode`).
fn tokenize(args: &[String], mode: &[&'static str]) -> Result<Tokens, String> {
    let mut raw = Raw::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let Some(stripped) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            return Err(format!("unexpected argument {arg:?}: options start with --"));
        };
        let (name, inline) = match stripped.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (stripped, None),
        };
        match name {
            "h" | "help" => return Ok(Tokens::Help),
            "version" => return Ok(Tokens::Version),
            _ => {}
        }
        let Some(&name) = COMMON_OPTIONS.iter().chain(mode).find(|o| **o == name) else {
            return Err(format!("unknown option {arg:?}"));
        };
        let value = match inline {
            Some(v) => v,
            None => it.next().cloned().ok_or_else(|| format!("--{name} needs a value"))?,
        };
        if !REPEATABLE.contains(&name) && raw.one(name).is_some() {
            return Err(format!("--{name} is given more than once"));
        }
        raw.values.push((name, value));
    }
    Ok(Tokens::Options(raw))
}

fn validate(
    raw: &Raw,
    env: &dyn Fn(&str) -> Option<String>,
    hostname: &str,
) -> Result<Config, String> {
    let mut warnings = Vec::new();

    // What to register.
    let prefix = prefix(raw.one("prefix").unwrap_or("/"))?;
    let service = raw.one("service").map(|s| name("--service", s)).transpose()?;
    let mut domains: Vec<String> = Vec::new();
    for d in raw.all("domain") {
        let d = domain(d)?;
        if !domains.contains(&d) {
            domains.push(d);
        }
    }
    let addr = raw.one("addr").map(address).transpose()?;
    let mut registration = Registration { shared: Vec::new(), leased: Vec::new() };
    match (&service, &addr) {
        (Some(service), Some(addr)) => {
            let instance = match raw.one("instance") {
                Some(i) => name("--instance", i)?,
                None => default_instance(hostname, addr),
            };
            if !domains.is_empty() {
                registration
                    .shared
                    .push((join(&prefix, &format!("subdomain/{service}")), domains.join(" ")));
            }
            registration
                .leased
                .push((join(&prefix, &format!("upstream/{service}/{instance}")), addr.clone()));
        }
        (Some(_), None) => {
            return Err("--service needs --addr, the instance's HOST:PORT".into());
        }
        (None, _) => {
            for (given, what) in [
                (addr.is_some(), "--addr"),
                (!domains.is_empty(), "--domain"),
                (raw.one("instance").is_some(), "--instance"),
            ] {
                if given {
                    return Err(format!("{what} needs --service"));
                }
            }
        }
    }
    for kv in raw.all("key") {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("invalid --key {kv:?}: expected KEY=VALUE"))?;
        let key = join(&prefix, &relative_key(k)?);
        value(&format!("--key {k}"), v)?;
        if registration.all_keys().contains(&key) {
            return Err(format!("invalid --key {kv:?}: the key {key} is already registered"));
        }
        registration.leased.push((key, v.to_string()));
    }
    if registration.leased.is_empty() {
        return Err("nothing to register: give --service and --addr, or --key K=V".into());
    }

    // Health.
    let check = match (raw.one("check"), raw.one("check-cmd")) {
        (Some(_), Some(_)) => return Err("give either --check or --check-cmd, not both".into()),
        (Some(url), None) => check_url(url)?,
        (None, Some(cmd)) if cmd.trim().is_empty() => {
            return Err("--check-cmd is empty".into());
        }
        (None, Some(cmd)) => Check::Cmd(cmd.to_string()),
        (None, None) => Check::None,
    };
    let interval = duration("--interval", raw.one("interval").unwrap_or("5s"))?;
    let start_interval =
        duration("--start-interval", raw.one("start-interval").unwrap_or("250ms"))?.min(interval);
    let timeout = match raw.one("timeout") {
        Some(t) => duration("--timeout", t)?,
        None => interval.min(Duration::from_secs(2)),
    };
    if timeout > interval {
        warnings.push(format!(
            "--timeout ({}) is longer than --interval ({}): a slow check delays the next one",
            fmt_duration(timeout),
            fmt_duration(interval)
        ));
    }
    let rise = count("--rise", raw.one("rise").unwrap_or("2"))?;
    let fall = count("--fall", raw.one("fall").unwrap_or("3"))?;
    let ttl = ttl(raw)?;

    let etcd = etcd_options(raw, env, ttl, &mut warnings)?;

    Ok(Config {
        etcd,
        metrics_addr: raw.one("metrics-addr").map(str::to_string),
        registration,
        check,
        interval,
        start_interval,
        timeout,
        rise,
        fall,
        ttl,
        warnings,
    })
}

fn validate_docker(
    raw: &Raw,
    env: &dyn Fn(&str) -> Option<String>,
    hostname: &str,
) -> Result<DockerConfig, String> {
    use crate::docker::container::{AddressFrom, Rules};
    let mut warnings = Vec::new();
    let prefix = prefix(raw.one("prefix").unwrap_or("/"))?;
    let label_prefix = raw.one("label-prefix").unwrap_or("confd");
    if label_prefix.is_empty() || label_prefix.chars().any(|c| !name_char(c)) {
        return Err(format!(
            "invalid --label-prefix {label_prefix:?}: use letters, digits, '.', '_', '-'"
        ));
    }
    // Instance ids start with it, and registrations left by an earlier run are recognised by
    // it: it must tell this host from the others.
    let node_name = match raw.one("node-name") {
        Some(n) => name("--node-name", n)?,
        None if hostname.is_empty() || hostname == "localhost" => {
            return Err(format!(
                "this host's name ({hostname:?}) does not tell it from others: give --node-name"
            ))
        }
        None => name("--node-name", hostname)?,
    };
    let network = raw.one("network").map(network_name).transpose()?;
    let host_ip = raw.one("host-ip").map(ip_address).transpose()?;
    let address = match raw.one("address").unwrap_or("container") {
        "container" => {
            if host_ip.is_some() {
                return Err("--host-ip goes with --address host".into());
            }
            AddressFrom::Container { network }
        }
        "host" => {
            if network.is_some() {
                return Err("--network goes with --address container".into());
            }
            AddressFrom::Host { host_ip }
        }
        other => {
            return Err(format!(
                "invalid --address {other:?}: expected container (the container's IP address on \
                 its network) or host (a host address and the published port)"
            ))
        }
    };
    let socket = match raw.one("docker-host") {
        Some(h) => docker_socket(h)?,
        None => match env("DOCKER_HOST").filter(|h| !h.is_empty()) {
            Some(h) => docker_socket(&h).map_err(|e| format!("{e} (from DOCKER_HOST)"))?,
            None => PathBuf::from("/var/run/docker.sock"),
        },
    };
    let ttl = ttl(raw)?;
    let etcd = etcd_options(raw, env, ttl, &mut warnings)?;
    let rules = Rules { prefix, label_prefix: label_prefix.to_string(), node_name, address };
    let metrics_addr = raw.one("metrics-addr").map(str::to_string);
    Ok(DockerConfig { etcd, metrics_addr, ttl, socket, rules, warnings })
}

/// `unix:///path` or `/path`: only the local socket is spoken to.
fn docker_socket(h: &str) -> Result<PathBuf, String> {
    let path = h.strip_prefix("unix://").unwrap_or(h);
    if !path.starts_with('/') {
        return Err(format!(
            "invalid --docker-host {h:?}: expected unix:///PATH (TCP endpoints are not supported)"
        ));
    }
    Ok(PathBuf::from(path))
}

/// A Docker network name (`[A-Za-z0-9][A-Za-z0-9_.-]*`).
pub(crate) fn network_name(n: &str) -> Result<String, String> {
    match segment(n) {
        Ok(()) => Ok(n.to_string()),
        Err(why) => Err(format!("invalid network name {n:?}: {why}")),
    }
}

/// An IPv4 or IPv6 address, as written in `HOST:PORT` (IPv6 in brackets).
fn ip_address(ip: &str) -> Result<String, String> {
    let bare = ip.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<Ipv4Addr>().is_ok() {
        return Ok(bare.to_string());
    }
    match bare.parse::<Ipv6Addr>() {
        Ok(_) => Ok(format!("[{bare}]")),
        Err(_) => Err(format!("invalid --host-ip {ip:?}: expected an IPv4 or IPv6 address")),
    }
}

/// `--ttl`: whole seconds, 2 to 86400 (default 10).
fn ttl(raw: &Raw) -> Result<i64, String> {
    match raw.one("ttl").unwrap_or("10").parse::<i64>() {
        Ok(t) if (2..=86_400).contains(&t) => Ok(t),
        _ => Err(format!(
            "invalid --ttl {:?}: expected whole seconds from 2 to 86400",
            raw.one("ttl").unwrap_or_default()
        )),
    }
}

/// The etcd connection options, shared by both modes.
fn etcd_options(
    raw: &Raw,
    env: &dyn Fn(&str) -> Option<String>,
    ttl: i64,
    warnings: &mut Vec<String>,
) -> Result<confd_etcd::EtcdConfig, String> {
    let mut nodes: Vec<String> = raw.all("node").iter().map(|s| s.trim().to_string()).collect();
    if nodes.is_empty() {
        nodes.push("http://127.0.0.1:2379".into());
    }
    // As confd: a node without a scheme is http://, or https:// with TLS options.
    for n in &nodes {
        let rest = match n.split_once("://") {
            Some(("http" | "https", rest)) => rest,
            Some(_) => "",
            None => n.as_str(),
        };
        if rest.is_empty() || rest.contains(char::is_whitespace) {
            return Err(format!(
                "invalid --node {n:?}: expected HOST:PORT, http://HOST:PORT or https://HOST:PORT"
            ));
        }
    }
    let mut etcd = confd_etcd::EtcdConfig::new(nodes);
    let sources: Vec<&str> = ["password", "password-file", "password-env"]
        .into_iter()
        .filter(|s| raw.one(s).is_some())
        .collect();
    if sources.len() > 1 {
        return Err(format!(
            "the password is given more than once (--{}); give only one",
            sources.join(", --")
        ));
    }
    let password = if let Some(p) = raw.one("password") {
        warnings.push(
            "--password is visible to every user in ps; prefer --password-file or --password-env"
                .into(),
        );
        Some(p.to_string())
    } else if let Some(file) = raw.one("password-file") {
        let text =
            std::fs::read_to_string(file).map_err(|e| format!("--password-file {file}: {e}"))?;
        Some(text.trim_end_matches(['\n', '\r']).to_string())
    } else if let Some(var) = raw.one("password-env") {
        match env(var) {
            Some(v) if !v.is_empty() => Some(v),
            _ => {
                return Err(format!(
                    "--password-env: environment variable {var} is not set or empty"
                ))
            }
        }
    } else {
        None
    };
    match (raw.one("username"), password) {
        (Some(u), p) if !u.is_empty() => {
            etcd.username = Some(u.to_string());
            etcd.password = Some(p.unwrap_or_default());
        }
        (_, Some(_)) => return Err("a password is given without --username".into()),
        _ => {}
    }
    let file = |name: &str| raw.one(name).filter(|s| !s.is_empty()).map(PathBuf::from);
    let (ca, cert, key) = (file("client-ca-keys"), file("client-cert"), file("client-key"));
    if cert.is_some() != key.is_some() {
        return Err("--client-cert and --client-key go together".into());
    }
    if ca.is_some() || cert.is_some() {
        etcd.tls = Some(confd_etcd::TlsConfig { ca, cert, key });
    }
    // Calls must fail well within a TTL, so that keep-alives can move to another member in
    // time: a quarter of the TTL, between 0.5 s and 3 s.
    let per_call = Duration::from_millis((ttl as u64 * 250).clamp(500, 3000));
    etcd.request_timeout = per_call;
    etcd.connect_timeout = per_call.min(Duration::from_secs(2));
    etcd.member_refresh = match raw.one("member-refresh") {
        None => Some(confd_etcd::DEFAULT_MEMBER_REFRESH),
        Some(off) if off.trim_end_matches(char::is_alphabetic).parse::<f64>() == Ok(0.0) => None,
        Some(every) => Some(duration("--member-refresh", every)?),
    };
    etcd.on_members = Some(std::sync::Arc::new(|notice| match notice {
        confd_etcd::MembersNotice::Failed(_) => crate::log::warning!("{notice}"),
        _ => crate::log::info!("{notice}"),
    }));

    Ok(etcd)
}

/// `/`, or `/a/b` (a trailing `/` dropped).
fn prefix(p: &str) -> Result<String, String> {
    let bad = |why: &str| Err(format!("invalid --prefix {p:?}: {why}"));
    if !p.starts_with('/') {
        return bad("it must start with /");
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok("/".into());
    }
    for seg in trimmed[1..].split('/') {
        if let Err(why) = segment(seg) {
            return bad(&why);
        }
    }
    Ok(trimmed.to_string())
}

/// A key relative to the prefix: `a/b`, segments as in [`segment`]; a leading `/` is allowed.
fn relative_key(k: &str) -> Result<String, String> {
    let k2 = k.strip_prefix('/').unwrap_or(k);
    if k2.is_empty() {
        return Err(format!("invalid --key {k:?}=…: the key is empty"));
    }
    for seg in k2.split('/') {
        segment(seg).map_err(|why| format!("invalid --key {k:?}=…: {why}"))?;
    }
    Ok(k2.to_string())
}

/// One path segment of a key (`confd_values::segment`).
pub(crate) fn segment(seg: &str) -> Result<(), String> {
    confd_values::segment(seg).map_err(|e| e.to_string())
}

pub(crate) fn name_char(c: char) -> bool {
    confd_values::is_segment_char(c)
}

/// A service name or instance id: one key segment.
fn name(what: &str, s: &str) -> Result<String, String> {
    segment(s).map_err(|why| format!("invalid {what} {s:?}: {why}"))?;
    Ok(s.to_string())
}

pub(crate) fn join(prefix: &str, rel: &str) -> String {
    if prefix == "/" {
        format!("/{rel}")
    } else {
        format!("{prefix}/{rel}")
    }
}

/// `<hostname>-<addr>`, every character that may not be in a key segment made `_`:
/// `web1-10.0.0.5_8080`.
pub fn default_instance(hostname: &str, addr: &str) -> String {
    let host = if hostname.is_empty() { "localhost" } else { hostname };
    format!("{host}-{addr}").chars().map(|c| if name_char(c) { c } else { '_' }).collect()
}

/// A value that ends up in an nginx directive.
pub(crate) fn value(what: &str, v: &str) -> Result<(), String> {
    if v.is_empty() {
        return Err(format!("invalid {what}: the value is empty"));
    }
    if let Some(c) =
        v.chars().find(|c| c.is_whitespace() || c.is_control() || "{};\"'`#$\\".contains(*c))
    {
        return Err(format!(
            "invalid {what} value {v:?}: {c:?} is not allowed in a value (it could inject nginx configuration)"
        ));
    }
    Ok(())
}

/// `HOST:PORT`: an IPv4 address, a bracketed IPv6 address or a DNS name, and a port 1–65535.
fn address(a: &str) -> Result<String, String> {
    let bad = |why: String| Err(format!("invalid --addr {a:?}: {why}"));
    let Some((host, port)) = a.rsplit_once(':') else {
        return bad("expected HOST:PORT, e.g. 10.0.0.5:8080".into());
    };
    if let Err(why) = port_number(port) {
        return bad(why);
    }
    if let Err(why) = host_name(host) {
        return bad(why);
    }
    Ok(a.to_string())
}

pub(crate) fn port_number(port: &str) -> Result<u16, String> {
    confd_values::port_number(port).map_err(|e| e.to_string())
}

/// An IPv4 address, `[IPv6]`, or a DNS host name (`confd_values::host_name`).
pub(crate) fn host_name(host: &str) -> Result<(), String> {
    confd_values::host_name(host).map_err(|e| e.to_string())
}

/// A DNS name (`confd_values::dns_name`).
pub(crate) fn dns_name(name: &str) -> Result<(), String> {
    confd_values::dns_name(name).map_err(|e| e.to_string())
}

/// A domain name for `server_name`: a DNS name, or `*.` and a DNS name.
fn domain(d: &str) -> Result<String, String> {
    let name = d.strip_prefix("*.").unwrap_or(d);
    match dns_name(name) {
        Ok(()) => Ok(d.to_string()),
        Err(why) if d.contains(char::is_whitespace) || d.contains(',') => {
            Err(format!("invalid --domain {d:?}: {why}; give each domain with its own --domain"))
        }
        Err(why) => Err(format!("invalid --domain {d:?}: {why}")),
    }
}

fn check_url(url: &str) -> Result<Check, String> {
    let bad = |why: String| Err(format!("invalid --check {url:?}: {why}"));
    if let Some(rest) = url.strip_prefix("tcp://") {
        let hostport = rest.strip_suffix('/').unwrap_or(rest);
        let Some((host, port)) = hostport.rsplit_once(':') else {
            return bad("expected tcp://HOST:PORT".into());
        };
        let port = match port_number(port) {
            Ok(p) => p,
            Err(why) => return bad(why),
        };
        if let Err(why) = host_name(host) {
            return bad(why);
        }
        return Ok(Check::Tcp { host: unbracket(host), port });
    }
    if let Some(rest) = url.strip_prefix("http://") {
        let (hostport, path) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_string()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_string()),
        };
        if let Some(c) = path.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return bad(format!("{c:?} is not allowed in the path"));
        }
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !p.contains(']') => match port_number(p) {
                Ok(p) => (h, p),
                Err(why) => return bad(why),
            },
            _ => (hostport, 80),
        };
        if let Err(why) = host_name(host) {
            return bad(why);
        }
        let host_header = if port == 80 { host.to_string() } else { format!("{host}:{port}") };
        return Ok(Check::Http { host: unbracket(host), port, path, host_header });
    }
    if url.starts_with("https://") {
        return bad(
            "https checks are not supported; use http://, tcp:// or --check-cmd (e.g. with curl)"
                .into(),
        );
    }
    bad("expected http://HOST[:PORT][/PATH] or tcp://HOST:PORT".into())
}

fn unbracket(host: &str) -> String {
    host.trim_start_matches('[').trim_end_matches(']').to_string()
}

/// `200ms`, `5s`, `1.5s`, `2m`, `1h`, or a bare number of seconds; more than zero.
pub fn duration(what: &str, s: &str) -> Result<Duration, String> {
    let bad = || format!("invalid {what} {s:?}: expected a duration such as 200ms, 5s or 1m");
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| bad())?;
    let scale = match unit {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(bad()),
    };
    let secs = n * scale;
    if !(0.001..=86_400.0 * 365.0).contains(&secs) {
        return Err(format!("invalid {what} {s:?}: must be at least 1ms"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn count(what: &str, s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(n) if (1..=1000).contains(&n) => Ok(n),
        _ => Err(format!("invalid {what} {s:?}: expected a whole number from 1 to 1000")),
    }
}

pub fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else if ms < 1000 {
        format!("{ms}ms")
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Config, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let env = |name: &str| (name == "PW").then(|| "from-env".to_string());
        match parse(&args, &env, "web1")? {
            Parsed::Run(c) => Ok(*c),
            _ => panic!("not a run"),
        }
    }

    fn err(args: &[&str]) -> String {
        match run(args) {
            Ok(c) => panic!("accepted {args:?}: {c:?}"),
            Err(e) => e,
        }
    }

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    const SEED: &[&str] = &[
        "--prefix",
        "/service_sgin",
        "--service",
        "web",
        "--domain",
        "www.example.com",
        "--domain=*.example.org",
        "--addr",
        "10.0.0.5:8080",
    ];

    #[test]
    fn the_seeds_layout() {
        let c = run(SEED).unwrap();
        assert_eq!(
            c.registration.shared,
            kv(&[("/service_sgin/subdomain/web", "www.example.com *.example.org")])
        );
        assert_eq!(
            c.registration.leased,
            kv(&[("/service_sgin/upstream/web/web1-10.0.0.5_8080", "10.0.0.5:8080")])
        );
        assert_eq!(c.check, Check::None);
        assert_eq!(
            (c.interval, c.timeout, c.rise, c.fall, c.ttl),
            (Duration::from_secs(5), Duration::from_secs(2), 2, 3, 10)
        );
        assert_eq!(c.start_interval, Duration::from_millis(250));
        assert_eq!(c.etcd.endpoints, vec!["http://127.0.0.1:2379".to_string()]);
        assert_eq!(c.etcd.request_timeout, Duration::from_millis(2500));
        assert_eq!(c.etcd.member_refresh, Some(confd_etcd::DEFAULT_MEMBER_REFRESH));
        assert!(c.etcd.on_members.is_some());
        let refresh = |v: &str| {
            let mut args = SEED.to_vec();
            args.extend(["--member-refresh", v]);
            run(&args).map(|c| c.etcd.member_refresh)
        };
        assert_eq!(refresh("5s"), Ok(Some(Duration::from_secs(5))));
        assert_eq!(refresh("0"), Ok(None));
        assert_eq!(refresh("0s"), Ok(None));
        assert!(refresh("-1s").unwrap_err().contains("--member-refresh"));

        let mut args = SEED.to_vec();
        args.extend(["--instance", "i-1", "--key", "meta/i-1=blue", "-ttl", "2", "--prefix=/"]);
        let e = err(&args);
        assert_eq!(e, "--prefix is given more than once");
        args.pop();
        let c = run(&args).unwrap();
        assert_eq!(c.registration.leased[0].0, "/service_sgin/upstream/web/i-1");
        assert_eq!(c.registration.leased[1], ("/service_sgin/meta/i-1".into(), "blue".into()));
        assert_eq!(c.etcd.request_timeout, Duration::from_millis(500));

        // Generic: only --key, at the root prefix.
        let c = run(&["--key", "/a/b=1", "--key", "c=2"]).unwrap();
        assert!(c.registration.shared.is_empty());
        assert_eq!(c.registration.leased, kv(&[("/a/b", "1"), ("/c", "2")]));
        // IPv6 and host names.
        let c = run(&["--service", "s", "--addr", "[fd00::5]:80", "--instance", "x"]).unwrap();
        assert_eq!(c.registration.leased, kv(&[("/upstream/s/x", "[fd00::5]:80")]));
        assert_eq!(default_instance("h", "[fd00::5]:80"), "h-_fd00__5__80");
        run(&["--service", "s", "--addr", "app-1.internal:80"]).unwrap();
    }

    #[test]
    fn bad_input_is_one_clear_error() {
        let with = |extra: &[&'static str]| {
            let mut a = SEED.to_vec();
            a.extend_from_slice(extra);
            a
        };
        let addr = |a: &str| {
            let mut v = vec!["--service", "web"];
            v.extend(["--addr", a]);
            err(&v)
        };
        assert_eq!(
            addr("10.0.0.1"),
            "invalid --addr \"10.0.0.1\": expected HOST:PORT, e.g. 10.0.0.5:8080"
        );
        assert_eq!(
            addr("10.0.0.1:80; evil"),
            "invalid --addr \"10.0.0.1:80; evil\": the port \"80; evil\" is not a number from 1 to 65535"
        );
        assert!(addr("10.0.0.1:0").contains("not a number from 1 to 65535"));
        assert!(addr("10.0.0.1:65536").contains("not a number from 1 to 65535"));
        assert!(addr("10.0.0.1:+80").contains("not a number"));
        assert!(addr("ev il:80").contains("' ' is not allowed"), "{}", addr("ev il:80"));
        assert!(addr("a;b:80").contains("';' is not allowed"));
        assert!(addr("999.1.1.1:80").contains("the last label is all digits"));
        assert!(addr("::1:80").contains("in brackets"));
        assert!(addr("[zz]:80").contains("not an IPv6 address"));
        assert!(addr("-x.com:80").contains("starts or ends with '-'"));

        let e = err(&with(&["--domain", "www.example.com;"]));
        assert_eq!(e, "invalid --domain \"www.example.com;\": ';' is not allowed (letters, digits, '-' and '.' only)");
        assert!(err(&with(&["--domain", "a.com b.com"])).contains("its own --domain"));
        assert!(err(&with(&["--domain", "a..com"])).contains("empty label"));
        assert!(err(&with(&["--domain", "*"])).contains("invalid --domain"));
        assert!(err(&with(&["--domain", "a.*.com"])).contains("'*' is not allowed"));
        assert!(err(&["--service", "we/b", "--addr", "h:1"]).contains("'/' is not allowed"));
        assert!(err(&["--service", "..", "--addr", "h:1"]).contains("\"..\" is not allowed"));
        assert!(err(&with(&["--instance", "a b"])).starts_with("invalid --instance \"a b\""));
        assert_eq!(
            err(&["--prefix", "x", "--key", "a=1"]),
            "invalid --prefix \"x\": it must start with /"
        );
        assert!(err(&["--prefix", "/a/../b", "--key", "a=1"]).contains("not allowed"));
        for v in ["1}", "a b", "x;y", "\"q\"", "a\nb", "$host", "#c", "a\\b", ""] {
            let e = err(&["--key", &format!("k={v}")]);
            assert!(e.starts_with("invalid --key k"), "{v:?}: {e}");
        }
        assert!(err(&["--key", "k"]).contains("expected KEY=VALUE"));
        assert!(err(&["--key", "a//b=1"]).contains("empty path segment"));
        assert!(err(&["--key", "a=1", "--key", "a=2"]).contains("already registered"));
        assert!(err(&with(&["--key", "upstream/web/web1-10.0.0.5_8080=x"]))
            .contains("already registered"));

        assert_eq!(err(&["--service", "web"]), "--service needs --addr, the instance's HOST:PORT");
        assert_eq!(err(&["--addr", "h:1", "--key", "a=1"]), "--addr needs --service");
        assert_eq!(err(&["--domain", "a.com", "--key", "a=1"]), "--domain needs --service");
        assert!(err(&[]).starts_with("nothing to register"));
        assert_eq!(err(&["--servce", "web"]), "unknown option \"--servce\"");
        assert_eq!(err(&["web"]), "unexpected argument \"web\": options start with --");
        assert_eq!(err(&with(&["--ttl"])), "--ttl needs a value");
        assert!(err(&with(&["--ttl", "1"])).contains("from 2 to 86400"));
        assert!(err(&with(&["--interval", "5x"])).contains("expected a duration"));
        assert!(err(&with(&["--interval", "0s"])).contains("at least 1ms"));
        assert!(err(&with(&["--start-interval", "0s"])).contains("at least 1ms"));
        assert!(err(&with(&["--rise", "0"])).contains("from 1 to 1000"));
        assert!(err(&with(&["--check", "https://a/"])).contains("not supported"));
        assert!(err(&with(&["--check", "ftp://a/"])).contains("expected http://"));
        assert!(err(&with(&["--check", "tcp://a"])).contains("tcp://HOST:PORT"));
        assert!(err(&with(&["--check", "http://a/x y"])).contains("not allowed in the path"));
        assert!(err(&with(&["--check", "tcp://a:1", "--check-cmd", "true"])).contains("not both"));
        assert!(err(&with(&["--node", "ftp://127.0.0.1:2379"])).contains("invalid --node"));
        assert!(err(&with(&["--node", "http://"])).contains("invalid --node"));
        assert_eq!(
            run(&with(&["--node", "127.0.0.1:2379"])).unwrap().etcd.endpoints,
            ["127.0.0.1:2379"]
        );
        assert!(err(&with(&["--password", "x"])).contains("without --username"));
        assert!(err(&with(&["--password", "x", "--password-env", "PW"])).contains("more than once"));
        assert!(
            err(&with(&["--username", "u", "--password-env", "NOPE"])).contains("NOPE is not set")
        );
        assert!(err(&with(&["--password-file", "/nonexistent/pw"])).contains("/nonexistent/pw"));
        assert!(err(&with(&["--client-cert", "c.pem"])).contains("go together"));
    }

    #[test]
    fn checks_and_credentials() {
        let check = |url: &str| {
            let mut a = SEED.to_vec();
            a.extend(["--check", url]);
            run(&a).unwrap().check
        };
        assert_eq!(
            check("http://10.0.0.5:8080/health?full=1"),
            Check::Http {
                host: "10.0.0.5".into(),
                port: 8080,
                path: "/health?full=1".into(),
                host_header: "10.0.0.5:8080".into()
            }
        );
        assert_eq!(
            check("http://app.local"),
            Check::Http {
                host: "app.local".into(),
                port: 80,
                path: "/".into(),
                host_header: "app.local".into()
            }
        );
        assert_eq!(
            check("http://[::1]:81?x"),
            Check::Http {
                host: "::1".into(),
                port: 81,
                path: "/?x".into(),
                host_header: "[::1]:81".into()
            }
        );
        assert_eq!(check("tcp://[::1]:81"), Check::Tcp { host: "::1".into(), port: 81 });

        let mut a = SEED.to_vec();
        a.extend(["--username", "reg", "--password-env", "PW", "--client-ca-keys", "ca.pem"]);
        let c = run(&a).unwrap();
        assert_eq!(c.etcd.username.as_deref(), Some("reg"));
        assert_eq!(c.etcd.password.as_deref(), Some("from-env"));
        assert_eq!(c.etcd.tls.as_ref().unwrap().ca, Some(PathBuf::from("ca.pem")));
        assert!(c.warnings.is_empty());
        let mut a = SEED.to_vec();
        a.extend(["--username", "reg", "--password", "pw", "--timeout", "6s"]);
        let c = run(&a).unwrap();
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
    }

    #[test]
    fn docker_mode_options() {
        use crate::docker::container::AddressFrom;
        let docker = |args: &[&str], env: &dyn Fn(&str) -> Option<String>| {
            let mut all = vec!["docker".to_string()];
            all.extend(args.iter().map(|s| s.to_string()));
            match parse(&all, env, "web1") {
                Ok(Parsed::Docker(c)) => Ok(*c),
                Ok(_) => panic!("not a docker run"),
                Err(e) => Err(e),
            }
        };
        let none = |_: &str| None;
        let c = docker(&[], &none).unwrap();
        assert_eq!(c.socket, PathBuf::from("/var/run/docker.sock"));
        assert_eq!(
            (c.rules.prefix.as_str(), c.rules.label_prefix.as_str(), c.rules.node_name.as_str()),
            ("/", "confd", "web1")
        );
        assert_eq!(c.rules.address, AddressFrom::Container { network: None });
        assert_eq!(c.ttl, 10);
        let env = |n: &str| (n == "DOCKER_HOST").then(|| "unix:///run/d.sock".to_string());
        assert_eq!(docker(&[], &env).unwrap().socket, PathBuf::from("/run/d.sock"));
        let c = docker(
            &[
                "--docker-host",
                "/x.sock",
                "--prefix",
                "/dc1/",
                "--address",
                "host",
                "--host-ip",
                "fd00::1",
                "--node-name",
                "n2",
                "--label-prefix",
                "acme.lb",
            ],
            &env,
        )
        .unwrap();
        assert_eq!(c.socket, PathBuf::from("/x.sock"));
        assert_eq!(c.rules.prefix, "/dc1");
        assert_eq!(c.rules.address, AddressFrom::Host { host_ip: Some("[fd00::1]".into()) });
        assert_eq!((c.rules.node_name.as_str(), c.rules.label_prefix.as_str()), ("n2", "acme.lb"));
        let tcp = |_: &str| Some("tcp://10.0.0.1:2375".to_string());
        assert!(docker(&[], &tcp).unwrap_err().ends_with("(from DOCKER_HOST)"));
        assert!(docker(&["--network", "a/b"], &none).unwrap_err().contains("invalid network"));
        assert!(docker(&["--address", "host", "--network", "n"], &none)
            .unwrap_err()
            .contains("goes with"));
        assert!(docker(&["--node-name", "a b"], &none).unwrap_err().contains("--node-name"));
        let localhost = |args: &[&str]| {
            let mut all = vec!["docker".to_string()];
            all.extend(args.iter().map(|s| s.to_string()));
            parse(&all, &none, "localhost").map(|_| ())
        };
        assert!(localhost(&[]).unwrap_err().contains("give --node-name"));
        assert!(localhost(&["--node-name", "h1"]).is_ok());
        assert!(matches!(
            parse(&["docker".into(), "-h".into()], &none, "h"),
            Ok(Parsed::DockerHelp)
        ));
    }

    #[test]
    fn durations() {
        let d = |s| duration("--interval", s);
        assert_eq!(d("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(d("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(d("2"), Ok(Duration::from_secs(2)));
        assert_eq!(d("1m"), Ok(Duration::from_secs(60)));
        assert!(d("-1s").is_err() && d("s").is_err() && d("1d").is_err() && d("").is_err());
        assert_eq!(fmt_duration(Duration::from_millis(200)), "200ms");
        assert_eq!(fmt_duration(Duration::from_millis(2500)), "2.5s");
        assert_eq!(fmt_duration(Duration::from_secs(10)), "10s");
    }
}

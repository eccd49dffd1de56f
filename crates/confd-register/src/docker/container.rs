//! What a container should have in etcd: decided from what Docker says of it (the JSON of
//! `GET /containers/{id}/json`) and the agent's rules. Pure: no I/O.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::cli::Registration;
use crate::cli::{dns_name, host_name, join, network_name, port_number, segment};

/// How labels and addresses are read; from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Key prefix (the data centre), `/` or `/a/b`.
    pub prefix: String,
    /// Labels are `<label_prefix>.service` and so on.
    pub label_prefix: String,
    /// First part of every instance id: `<node_name>-<12 digits of the container id>`.
    pub node_name: String,
    pub address: AddressFrom,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressFrom {
    /// The container's IP address on a network, and the container port.
    Container { network: Option<String> },
    /// A host address and the host port the container port is published on. `host_ip`
    /// (bracketed when IPv6) is used when the port is published on all addresses.
    Host { host_ip: Option<String> },
}

/// The part of `GET /containers/{id}/json` that matters here.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Container {
    pub id: String,
    /// `/name`, as Docker gives it.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub config: Config,
    #[serde(default)]
    pub state: State,
    #[serde(default)]
    pub network_settings: NetworkSettings,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Config {
    #[serde(default, deserialize_with = "null_as_default")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub exposed_ports: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct State {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub running: bool,
    #[serde(default)]
    pub paused: bool,
    #[serde(default)]
    pub restarting: bool,
    #[serde(default)]
    pub health: Option<Health>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    #[serde(default)]
    pub status: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSettings {
    #[serde(default, deserialize_with = "null_as_default")]
    pub networks: BTreeMap<String, Network>,
    /// `"8080/tcp": [{"HostIp": "0.0.0.0", "HostPort": "32768"}]`, or null when not published.
    #[serde(default, deserialize_with = "null_as_default")]
    pub ports: BTreeMap<String, Option<Vec<PortBinding>>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Network {
    #[serde(default, rename = "IPAddress")]
    pub ip_address: String,
    #[serde(default, rename = "GlobalIPv6Address")]
    pub global_ipv6_address: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortBinding {
    #[serde(default)]
    pub host_ip: String,
    #[serde(default)]
    pub host_port: String,
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// What a container should have in etcd now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Not labelled for registration: not ours.
    Ignore,
    /// Ours, and not to be registered now; why (starting, unhealthy, stopped, …).
    Down(String),
    /// To be registered, and why (healthy, or running without a healthcheck).
    Up(Registration, String),
    /// Labelled, but the labels (or the container's network) do not say a usable
    /// registration: the error, said once; nothing is registered.
    Invalid(String),
}

impl Container {
    /// The name without Docker's leading `/`.
    pub fn short_name(&self) -> &str {
        self.name.strip_prefix('/').unwrap_or(&self.name)
    }

    fn label(&self, rules: &Rules, what: &str) -> Option<&str> {
        self.config.labels.get(&format!("{}.{what}", rules.label_prefix)).map(|v| v.trim())
    }
}

/// The first 12 characters of a container id, as `docker ps` shows it.
pub fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// The instance id of a container: `<node>-<short id>`.
pub fn instance_id(rules: &Rules, id: &str) -> String {
    format!("{}-{}", rules.node_name, short_id(id))
}

/// Whether `instance` is an id this agent gives containers (`<node>-` and 12 hex digits):
/// how registrations left by an earlier run of the agent are recognised.
pub fn is_our_instance(rules: &Rules, instance: &str) -> bool {
    instance.strip_prefix(&rules.node_name).and_then(|r| r.strip_prefix('-')).is_some_and(|id| {
        id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Decides what `c` should have in etcd.
pub fn decide(c: &Container, rules: &Rules) -> Decision {
    let Some(service) = c.label(rules, "service") else {
        return Decision::Ignore;
    };
    let label = |what: &str| format!("label {}.{what}", rules.label_prefix);
    if let Err(why) = segment(service) {
        return Decision::Invalid(format!("{} {service:?}: {why}", label("service")));
    }
    // Health first: a stopped container with bad labels is simply down.
    let why_up = match health(&c.state) {
        Ok(why) => why,
        Err(why) => return Decision::Down(why),
    };
    let domains = match c.label(rules, "domains").map(domains).transpose() {
        Ok(d) => d.unwrap_or_default(),
        Err(why) => return Decision::Invalid(format!("{}: {why}", label("domains"))),
    };
    let port = match container_port(c, rules) {
        Ok(p) => p,
        Err(why) => return Decision::Invalid(why),
    };
    let addr = match &rules.address {
        AddressFrom::Container { network } => container_address(c, rules, network.as_deref(), port),
        AddressFrom::Host { host_ip } => host_address(c, host_ip.as_deref(), port),
    };
    let addr = match addr {
        Ok(a) => a,
        Err(why) => return Decision::Invalid(why),
    };
    let mut reg = Registration { shared: Vec::new(), leased: Vec::new() };
    if !domains.is_empty() {
        reg.shared.push((join(&rules.prefix, &format!("subdomain/{service}")), domains.join(" ")));
    }
    let instance = instance_id(rules, &c.id);
    reg.leased.push((join(&rules.prefix, &format!("upstream/{service}/{instance}")), addr));
    Decision::Up(reg, why_up)
}

/// `Ok(why it is up)` or `Err(why it is down)`.
fn health(s: &State) -> Result<String, String> {
    if !s.running {
        let status = if s.status.is_empty() { "stopped" } else { s.status.as_str() };
        return Err(format!("not running ({status})"));
    }
    if s.paused {
        return Err("paused".into());
    }
    if s.restarting {
        return Err("restarting".into());
    }
    match s.health.as_ref().map(|h| h.status.as_str()) {
        None | Some("") | Some("none") => Ok("running (no healthcheck)".into()),
        Some("healthy") => Ok("healthy".into()),
        Some("starting") => Err("health: starting".into()),
        Some(other) => Err(format!("health: {other}")),
    }
}

/// `a.com,b.com` or `a.com b.com`: each a DNS name or `*.` and one; duplicates dropped.
fn domains(list: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for d in list.split([',', ' ', '\t']).filter(|d| !d.is_empty()) {
        let name = d.strip_prefix("*.").unwrap_or(d);
        dns_name(name).map_err(|why| format!("invalid domain {d:?}: {why}"))?;
        if !out.iter().any(|o| o == d) {
            out.push(d.to_string());
        }
    }
    Ok(out)
}

/// The port label, or the one exposed TCP port.
fn container_port(c: &Container, rules: &Rules) -> Result<u16, String> {
    if let Some(p) = c.label(rules, "port") {
        return port_number(p).map_err(|why| format!("label {}.port: {why}", rules.label_prefix));
    }
    let tcp: Vec<&str> =
        c.config.exposed_ports.keys().filter_map(|k| k.strip_suffix("/tcp")).collect();
    match tcp.as_slice() {
        [one] => port_number(one).map_err(|why| format!("exposed port: {why}")),
        [] => Err(format!(
            "label {}.port is missing and the image exposes no TCP port",
            rules.label_prefix
        )),
        many => Err(format!(
            "label {}.port is missing and the image exposes several TCP ports ({})",
            rules.label_prefix,
            many.join(", ")
        )),
    }
}

fn container_address(
    c: &Container,
    rules: &Rules,
    default_network: Option<&str>,
    port: u16,
) -> Result<String, String> {
    let networks = &c.network_settings.networks;
    let chosen = match c.label(rules, "network") {
        Some(n) => Some(
            network_name(n)
                .map_err(|why| format!("label {}.network: {why}", rules.label_prefix))?,
        ),
        None => default_network.map(str::to_string),
    };
    let (name, net) = match chosen {
        Some(n) => match networks.get_key_value(&n) {
            Some(found) => found,
            None => {
                let on: Vec<&str> = networks.keys().map(String::as_str).collect();
                return Err(format!(
                    "not attached to network {n:?} (it is on: {})",
                    if on.is_empty() { "none".to_string() } else { on.join(", ") }
                ));
            }
        },
        None => match networks.len() {
            1 => networks.iter().next().expect("one network"),
            0 => return Err("attached to no network".into()),
            _ => {
                let on: Vec<&str> = networks.keys().map(String::as_str).collect();
                return Err(format!(
                    "attached to several networks ({}): say which with label {}.network or --network",
                    on.join(", "),
                    rules.label_prefix
                ));
            }
        },
    };
    let ip = if !net.ip_address.is_empty() {
        net.ip_address.clone()
    } else if !net.global_ipv6_address.is_empty() {
        format!("[{}]", net.global_ipv6_address)
    } else {
        return Err(format!(
            "has no IP address on network {name:?} (host networking? use --address host)"
        ));
    };
    checked_address(&ip, port)
}

fn host_address(c: &Container, host_ip: Option<&str>, port: u16) -> Result<String, String> {
    let bindings = c
        .network_settings
        .ports
        .get(&format!("{port}/tcp"))
        .and_then(|b| b.as_deref())
        .unwrap_or_default();
    let Some(b) = bindings.iter().find(|b| !b.host_port.is_empty()) else {
        return Err(format!("container port {port}/tcp is not published (docker run -p)"));
    };
    let host_port =
        port_number(&b.host_port).map_err(|why| format!("published port of {port}/tcp: {why}"))?;
    let ip = match b.host_ip.as_str() {
        "" | "0.0.0.0" | "::" => match host_ip {
            Some(ip) => ip.to_string(),
            None => {
                return Err(format!(
                    "port {port}/tcp is published on all host addresses: say which one the \
                     proxies reach with --host-ip"
                ))
            }
        },
        ip if ip.contains(':') => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    checked_address(&ip, host_port)
}

/// `ip:port`, held to what an address must be before it goes into nginx's configuration.
fn checked_address(ip: &str, port: u16) -> Result<String, String> {
    host_name(ip).map_err(|why| format!("unusable address: {why}"))?;
    Ok(format!("{ip}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(address: AddressFrom) -> Rules {
        Rules {
            prefix: "/service_sgin".into(),
            label_prefix: "confd".into(),
            node_name: "host1".into(),
            address,
        }
    }

    fn container(json: &str) -> Container {
        serde_json::from_str(json).unwrap()
    }

    /// A trimmed `docker inspect` of a running container with a healthcheck.
    const WEB: &str = r#"{
        "Id": "406d9a58f68e26130bbaeae104d2942e30b2a13c711537ff7f72f5c9f84d439f",
        "Name": "/web-1",
        "State": {"Status": "running", "Running": true, "Paused": false, "Restarting": false,
                  "Health": {"Status": "healthy", "FailingStreak": 0}},
        "Config": {"Labels": {"confd.service": "web", "confd.domains": "www.example.com, *.example.org",
                              "confd.port": "8080"},
                   "ExposedPorts": null},
        "NetworkSettings": {"Ports": {"8080/tcp": [{"HostIp": "0.0.0.0", "HostPort": "32768"},
                                                    {"HostIp": "::", "HostPort": "32768"}]},
                            "Networks": {"bridge": {"IPAddress": "172.17.0.2", "GlobalIPv6Address": ""}}}
    }"#;

    fn with(json: &str, from: &str, to: &str) -> Container {
        assert!(json.contains(from), "{from}");
        container(&json.replace(from, to))
    }

    type Pairs = Vec<(String, String)>;

    fn up(d: Decision) -> (Pairs, Pairs, String) {
        match d {
            Decision::Up(r, why) => (r.shared, r.leased, why),
            other => panic!("not up: {other:?}"),
        }
    }

    fn kv(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn a_healthy_labelled_container_is_registered_by_its_container_address() {
        let r = rules(AddressFrom::Container { network: None });
        let c = container(WEB);
        assert_eq!((c.short_name(), short_id(&c.id)), ("web-1", "406d9a58f68e"));
        let (shared, leased, why) = up(decide(&c, &r));
        assert_eq!(
            shared,
            vec![kv("/service_sgin/subdomain/web", "www.example.com *.example.org")]
        );
        assert_eq!(
            leased,
            vec![kv("/service_sgin/upstream/web/host1-406d9a58f68e", "172.17.0.2:8080")]
        );
        assert_eq!(why, "healthy");
        assert!(is_our_instance(&r, "host1-406d9a58f68e"));
        assert!(!is_our_instance(&r, "host1-10.0.0.5_8080"));
        assert!(!is_our_instance(&r, "host2-406d9a58f68e"));
        assert!(!is_our_instance(&r, "host1-406D9A58F68E"));
    }

    #[test]
    fn health_decides_up_or_down() {
        let r = rules(AddressFrom::Container { network: None });
        let health = |status: &str| decide(&with(WEB, "\"healthy\"", &format!("{status:?}")), &r);
        assert_eq!(health("starting"), Decision::Down("health: starting".into()));
        assert_eq!(health("unhealthy"), Decision::Down("health: unhealthy".into()));
        let no_check = with(
            WEB,
            r#""Health": {"Status": "healthy", "FailingStreak": 0}"#,
            r#""Health": null"#,
        );
        assert_eq!(up(decide(&no_check, &r)).2, "running (no healthcheck)");
        let stopped = with(
            WEB,
            r#""Status": "running", "Running": true"#,
            r#""Status": "exited", "Running": false"#,
        );
        assert_eq!(decide(&stopped, &r), Decision::Down("not running (exited)".into()));
        let paused = with(WEB, r#""Paused": false"#, r#""Paused": true"#);
        assert_eq!(decide(&paused, &r), Decision::Down("paused".into()));
        // Down wins over bad labels: a stopped container is not an error.
        let stopped_bad =
            with(&WEB.replace(r#""Running": true"#, r#""Running": false"#), "\"8080\"", "\"x\"");
        assert!(matches!(decide(&stopped_bad, &r), Decision::Down(_)));
    }

    #[test]
    fn unlabelled_containers_are_ignored_and_the_label_prefix_is_ours_to_choose() {
        let r = rules(AddressFrom::Container { network: None });
        assert_eq!(decide(&with(WEB, "confd.service", "other.service"), &r), Decision::Ignore);
        let mut r2 = r.clone();
        r2.label_prefix = "dc1".into();
        assert_eq!(decide(&container(WEB), &r2), Decision::Ignore);
        let c = container(&WEB.replace("\"confd.", "\"dc1."));
        assert!(matches!(decide(&c, &r2), Decision::Up(..)));
    }

    #[test]
    fn host_mode_uses_the_published_port() {
        let r = rules(AddressFrom::Host { host_ip: Some("10.1.2.3".into()) });
        assert_eq!(up(decide(&container(WEB), &r)).1[0].1, "10.1.2.3:32768");
        let bound = with(
            WEB,
            r#"{"HostIp": "0.0.0.0", "HostPort": "32768"}"#,
            r#"{"HostIp": "127.0.0.1", "HostPort": "32770"}"#,
        );
        assert_eq!(up(decide(&bound, &r)).1[0].1, "127.0.0.1:32770");
        let r_none = rules(AddressFrom::Host { host_ip: None });
        assert!(
            matches!(decide(&container(WEB), &r_none), Decision::Invalid(e) if e.contains("--host-ip"))
        );
        assert_eq!(up(decide(&bound, &r_none)).1[0].1, "127.0.0.1:32770");
        let unpublished = with(WEB, "\"8080/tcp\"", "\"9090/tcp\"");
        assert_eq!(
            decide(&unpublished, &r),
            Decision::Invalid("container port 8080/tcp is not published (docker run -p)".into())
        );
    }

    #[test]
    fn networks_and_ports_are_chosen_or_the_error_says_how() {
        let r = rules(AddressFrom::Container { network: None });
        let two = with(
            WEB,
            r#""Networks": {"bridge": {"IPAddress": "172.17.0.2", "GlobalIPv6Address": ""}}"#,
            r#""Networks": {"bridge": {"IPAddress": "172.17.0.2"}, "backend": {"IPAddress": "10.9.0.4"}}"#,
        );
        assert!(
            matches!(decide(&two, &r), Decision::Invalid(e) if e.contains("several networks (backend, bridge)"))
        );
        let r_net = rules(AddressFrom::Container { network: Some("backend".into()) });
        assert_eq!(up(decide(&two, &r_net)).1[0].1, "10.9.0.4:8080");
        let labelled = container(&two_with_label());
        assert_eq!(up(decide(&labelled, &r)).1[0].1, "172.17.0.2:8080");
        let r_missing = rules(AddressFrom::Container { network: Some("front".into()) });
        assert_eq!(
            decide(&container(WEB), &r_missing),
            Decision::Invalid("not attached to network \"front\" (it is on: bridge)".into())
        );
        let host_net = with(WEB, r#""IPAddress": "172.17.0.2""#, r#""IPAddress": """#);
        assert!(
            matches!(decide(&host_net, &r), Decision::Invalid(e) if e.contains("no IP address"))
        );
        let v6 = with(
            WEB,
            r#""IPAddress": "172.17.0.2", "GlobalIPv6Address": """#,
            r#""IPAddress": "", "GlobalIPv6Address": "fd00::2""#,
        );
        assert_eq!(up(decide(&v6, &r)).1[0].1, "[fd00::2]:8080");

        // The port: from the label, or the one exposed TCP port.
        let no_label = |exposed: &str| {
            let json = WEB.replace(r#""confd.port""#, r#""confd.note""#);
            decide(&with(&json, "\"ExposedPorts\": null", exposed), &r)
        };
        assert_eq!(
            up(no_label(r#""ExposedPorts": {"80/tcp": {}, "53/udp": {}}"#)).1[0].1,
            "172.17.0.2:80"
        );
        assert!(
            matches!(no_label(r#""ExposedPorts": {}"#), Decision::Invalid(e) if e.contains("exposes no TCP port"))
        );
        assert!(
            matches!(no_label(r#""ExposedPorts": {"80/tcp": {}, "81/tcp": {}}"#), Decision::Invalid(e) if e.contains("several TCP ports (80, 81)"))
        );
    }

    fn two_with_label() -> String {
        WEB.replace(
            r#""Networks": {"bridge": {"IPAddress": "172.17.0.2", "GlobalIPv6Address": ""}}"#,
            r#""Networks": {"bridge": {"IPAddress": "172.17.0.2"}, "backend": {"IPAddress": "10.9.0.4"}}"#,
        )
        .replace(r#""confd.port": "8080""#, r#""confd.port": "8080", "confd.network": "bridge""#)
    }

    #[test]
    fn labels_that_could_inject_nginx_syntax_are_refused() {
        let r = rules(AddressFrom::Container { network: None });
        for (from, to, expect) in [
            (
                "\"confd.service\": \"web\"",
                "\"confd.service\": \"web;x\"",
                "label confd.service \"web;x\"",
            ),
            ("www.example.com,", "www.example.com;evil{", "label confd.domains: invalid domain"),
            ("\"8080\"", "\"80 80\"", "label confd.port"),
            ("\"8080\"", "\"0\"", "not a number from 1 to 65535"),
        ] {
            match decide(&with(WEB, from, to), &r) {
                Decision::Invalid(e) => assert!(e.contains(expect), "{to}: {e}"),
                other => panic!("{to}: {other:?}"),
            }
        }
    }
}

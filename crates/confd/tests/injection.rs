//! Hostile and broken entries in etcd against the shipped production template
//! (`examples/seed/production`), with real etcd, real nginx and `confd -watch`: whatever a
//! writer of `upstream/` or `subdomain/` stores — by `confd-register`, a script or `etcdctl` —
//! nginx serves nothing it injected, the bad entry is left out with a warning naming its key,
//! and a legitimate instance registered while it is there is routed to.
//!
//! The writes here are made without authentication: what a registrar's leaked credentials
//! allow (any key and any bytes under its prefix's `upstream/` and `subdomain/`, as
//! `tests/seed_system.rs` shows with etcd's RBAC on) is what any writer can do here, and
//! confd's side is what is under test. Each test starts its own etcd member, nginx and confd.

mod seed;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use seed::{request, routes, Backend, Front, REDIRECT};
use testkit::EtcdCluster;

const DC: &str = "bx";
const PREFIX: &str = "/service_sgin_bx";

/// One data centre with two services, `web` (www.example.com) and `api` (api.example.com),
/// one backend each, served by nginx through `confd -watch`.
struct World {
    // Dropped in this order: confd and nginx before etcd and the logs.
    front: Front,
    web1: Backend,
    api1: Backend,
    cluster: EtcdCluster,
    logs: tempfile::TempDir,
}

impl World {
    fn start() -> World {
        let logs = tempfile::tempdir().unwrap();
        let cluster = EtcdCluster::start(1);
        let (web1, api1) = (Backend::start("web-1"), Backend::start("api-1"));
        cluster.put(&format!("{PREFIX}/subdomain/web"), "www.example.com");
        cluster.put(&format!("{PREFIX}/upstream/web/w1"), &web1.addr());
        cluster.put(&format!("{PREFIX}/subdomain/api"), "api.example.com");
        cluster.put(&format!("{PREFIX}/upstream/api/a1"), &api1.addr());
        let front = Front::start(&cluster, DC, None, logs.path());
        routes(front.port, "www.example.com", 4, &["web-1"]);
        routes(front.port, "api.example.com", 4, &["api-1"]);
        World { front, web1, api1, cluster, logs }
    }

    /// Stores `value` (any bytes, any length: etcdctl reads it from its standard input) at
    /// `key` under the data centre's prefix.
    fn put_raw(&self, key: &str, value: &[u8]) {
        let full = format!("{PREFIX}/{key}");
        if value.is_empty() {
            // etcdctl takes an empty value only as an argument.
            self.cluster.ctl().ok(&["put", &full, ""]);
            return;
        }
        let mut child = self
            .cluster
            .ctl()
            .command(&["put", &full])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(value).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "put {full:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(self.stored(&full).as_deref(), Some(value), "etcd stores {full:?} as written");
    }

    fn stored(&self, full_key: &str) -> Option<Vec<u8>> {
        let out = self.cluster.ctl().run(&["get", "--print-value-only", full_key]);
        assert!(out.status.success());
        let mut v = out.stdout;
        // etcdctl ends the value with one newline of its own.
        (!v.is_empty()).then(|| {
            v.pop();
            v
        })
    }

    /// After the bad entries are stored: a new `web` instance is routed to alongside the old
    /// one, `api` is untouched, every Host in `foreign_hosts` gets the default server's
    /// redirect, the live file passes `nginx -t` and contains none of `never`, each of
    /// `warned` (a key, or for a name taken from a key, the name) is in a WARNING, and confd
    /// still runs.
    fn bad_entries_cost_only_themselves(
        &mut self,
        foreign_hosts: &[&str],
        never: &[&str],
        warned: &[String],
    ) {
        let web2 = Backend::start("web-2");
        self.cluster.put(&format!("{PREFIX}/upstream/web/w2"), &web2.addr());
        self.front.wait_config("the new instance is rendered", |c| c.contains(&web2.addr()));
        routes(self.front.port, "www.example.com", 8, &["web-1", "web-2"]);
        routes(self.front.port, "api.example.com", 4, &["api-1"]);
        for host in foreign_hosts {
            let (status, body, location) = request(self.front.port, host).unwrap();
            assert_eq!(
                (status, location.as_str()),
                (302, REDIRECT),
                "{host} is served by something other than the default server: {body:?}\n{}",
                self.front.config()
            );
        }
        let config = self.front.config();
        for text in never {
            assert!(!config.contains(text), "the live config contains {text:?}:\n{config}");
        }
        self.front.prefix.test(Path::new("conf/nginx.conf")).expect("nginx -t of the live config");
        let log = self.front.confd.log();
        for what in warned {
            let named = log.lines().any(|l| l.contains(" WARNING ") && l.contains(what.as_str()));
            assert!(named, "no WARNING names {what:?}:\n{log}");
        }
        assert!(self.front.confd.running(), "confd ended:\n{log}");
        let _ = (&self.web1, &self.api1, &self.logs);
    }
}

/// A payload that, pasted into the upstream block, closes it and opens a server of its own
/// for `host` on nginx's port.
fn server_payload(before: &str, host: &str, port: u16) -> String {
    format!(
        "{before}; }} server {{ listen 127.0.0.1:{port}; server_name {host}; \
         location / {{ return 200 \"pwned\"; }} }} upstream z{host} {{ server 127.0.0.1:1"
    )
}

#[test]
fn an_instance_value_cannot_add_configuration_or_block_the_rest() {
    let mut w = World::start();
    let port = w.front.port;
    let intruder = Backend::start("intruder");
    let megabyte = format!("127.0.0.1:{}", "1".repeat(1 << 20));
    let entries: Vec<(&str, Vec<u8>)> = vec![
        // The payload; a second server line after a newline.
        ("upstream/web/i2", server_payload("127.0.0.1:8081", "evil.example", port).into_bytes()),
        ("upstream/web/nl", format!("127.0.0.1:8082;\nserver {}", intruder.addr()).into_bytes()),
        // A comment that swallows the `;`, a variable, an empty value, nonsense ports, a name
        // that does not resolve, 1 MB, bytes that are not UTF-8.
        ("upstream/web/hash", b"127.0.0.1:1 # rest".to_vec()),
        ("upstream/web/dollar", b"$host:80".to_vec()),
        ("upstream/web/empty", Vec::new()),
        ("upstream/web/port", b"127.0.0.1:99999".to_vec()),
        ("upstream/web/param", b"127.0.0.1:1 no_such_parameter".to_vec()),
        ("upstream/web/unresolved", b"no-such-host.invalid:80".to_vec()),
        ("upstream/web/mb", megabyte.into_bytes()),
        ("upstream/web/latin1", b"127.0.0.1:80\xe9\xff".to_vec()),
    ];
    for (key, value) in &entries {
        w.put_raw(key, value);
    }
    // Each is named by its key relative to the prefix, as the template sees it.
    let keys: Vec<String> = entries.iter().map(|(k, _)| format!("key /{k}:")).collect();
    w.bad_entries_cost_only_themselves(
        &["evil.example"],
        &["pwned", "evil", "no_such_parameter", "$host:", "99999", "111111", &intruder.addr()],
        &keys,
    );
}

#[test]
fn a_server_name_value_cannot_add_configuration_or_take_a_name() {
    let mut w = World::start();
    let port = w.front.port;
    let intruder = Backend::start("intruder");
    let services: Vec<(&str, String)> = vec![
        ("semi", server_payload("semi.example", "evil.example", port)),
        ("brace", "brace.example { return 200 pwned; }".into()),
        ("hash", "hash.example # ;".into()),
        ("newline", "nl.example;\nlocation /x { return 200 pwned; }".into()),
        ("dollar", "$host".into()),
        ("empty", String::new()),
        // A second service claiming a name another service already serves (it sorts after
        // `web`): the name stays with `web`, the claim is left out.
        ("zzz", "www.example.com".into()),
    ];
    for (service, names) in &services {
        w.put_raw(&format!("subdomain/{service}"), names.as_bytes());
        w.put_raw(&format!("upstream/{service}/i1"), intruder.addr().as_bytes());
    }
    let warned: Vec<String> =
        services.iter().map(|(s, _)| format!("key /subdomain/{s}:")).collect();
    w.bad_entries_cost_only_themselves(
        &["evil.example", "semi.example", "brace.example", "hash.example", "nl.example"],
        &["pwned", "evil", "server_name $host", &intruder.addr()],
        &warned,
    );
}

#[test]
fn keys_that_cleaning_would_move_reach_no_other_service() {
    let mut w = World::start();
    let intruder = Backend::start("intruder");
    let addr = intruder.addr();
    // A writer confined to upstream/web/ (etcd checks the raw key's prefix) aiming at `api`'s
    // instances and its server names, and the other forms cleaning would change.
    let keys = [
        "upstream/web/../api/evil",
        "upstream/web/./x",
        "upstream//api/double",
        "upstream/api/trailing/",
        "upstream/web/../../subdomain/api",
    ];
    for key in &keys[..4] {
        w.put_raw(key, addr.as_bytes());
    }
    w.put_raw(keys[4], b"evil.example");
    // Named as stored, with the prefix: they never reach the template.
    let warned: Vec<String> =
        keys.iter().map(|k| format!("key \"{PREFIX}/{k}\" left out")).collect();
    w.bad_entries_cost_only_themselves(&["evil.example"], &[&addr, "evil.example"], &warned);
    assert!(w.front.config().contains("server_name api.example.com;"));
}

#[test]
fn service_names_are_names_not_patterns() {
    let mut w = World::start();
    let intruder = Backend::start("intruder");
    // `*` as a pattern would gather every instance of every service into one upstream; `[`
    // would make the pattern malformed and fail every render.
    for (service, name) in [("*", "star.example"), ("[", "bracket.example"), ("we?", "q.example")] {
        w.put_raw(&format!("subdomain/{service}"), name.as_bytes());
        w.put_raw(&format!("upstream/{service}/i1"), intruder.addr().as_bytes());
    }
    w.bad_entries_cost_only_themselves(
        &["star.example", "bracket.example", "q.example"],
        &[&intruder.addr(), "star.example"],
        // `token` is given the name, not the entry: the warning names the value.
        &["value \"*\"".into(), "value \"[\"".into(), "value \"we?\"".into()],
    );
}

//! `confd-register docker`, the real binary, against the machine's real Docker engine and real
//! etcd: containers of an image built here (busybox, with a healthcheck that passes while a
//! file exists in a directory the test mounts at /state).
//!
//! Each test uses its own label namespace (`--label-prefix`), so agents of tests running side
//! by side never see each other's containers. Without an engine every test returns at once,
//! saying so on stderr.

use std::path::Path;
use std::time::Duration;

use testkit::docker::{self, Container, SocketProxy};
use testkit::{EtcdCluster, EtcdOptions};

mod common;
use common::{get, run, within, Agent};

/// Returns from the test when no engine runs here — unless `CONFD_RS_REQUIRE_DOCKER` is set
/// (scripts/test.sh sets it where the engine's socket exists), where that is a failure.
macro_rules! need_docker {
    () => {
        if let Err(why) = docker::engine() {
            if std::env::var_os("CONFD_RS_REQUIRE_DOCKER").is_some() {
                panic!("CONFD_RS_REQUIRE_DOCKER is set, but: {why}");
            }
            eprintln!("SKIPPED (no Docker engine): {why}");
            return;
        }
    };
}

const WAIT: Duration = Duration::from_secs(20);

/// A label namespace of this test only.
fn labels(test: &str) -> String {
    format!("t{}-{test}", std::process::id())
}

/// A labelled container of the test image; healthy while `state/healthy` exists.
fn service(lp: &str, service: &str, state: &Path, extra: &[&str]) -> Container {
    let (svc, mount) = (format!("{lp}.service={service}"), format!("{}:/state", state.display()));
    let mut args = vec!["-l", &svc, "-v", &mount];
    args.extend_from_slice(extra);
    args.push(docker::test_image());
    Container::run(&args)
}

fn agent(cluster: &EtcdCluster, lp: &str, prefix: &str, extra: &[&str]) -> Agent {
    let mut args = vec!["docker", "--label-prefix", lp, "--prefix", prefix, "--node-name", "n1"];
    args.extend_from_slice(extra);
    Agent::start(&cluster.endpoints(), &args)
}

fn key(prefix: &str, service: &str, c: &Container) -> String {
    format!("{prefix}/upstream/{service}/n1-{}", c.short_id())
}

#[test]
fn registers_only_while_healthy_and_ignores_unlabelled_containers() {
    need_docker!();
    let cluster = EtcdCluster::start(1);
    let lp = labels("health");
    let state = tempfile::tempdir().unwrap();
    let domains = format!("{lp}.domains=www.example.com,api.example.com");
    let port = format!("{lp}.port=8080");
    let web = service(&lp, "web", state.path(), &["-l", &domains, "-l", &port]);
    let plain = service(&lp, "api", state.path(), &["--no-healthcheck"]);
    let other = Container::run(&["-l", "unrelated=1", docker::test_image()]);
    let agent = agent(&cluster, &lp, "/dc1", &["--ttl", "5"]);
    let web_key = key("/dc1", "web", &web);

    // Without a healthcheck, running is enough; the port is the one the image exposes.
    let plain_key = key("/dc1", "api", &plain);
    within(&agent, WAIT, "the container without healthcheck registered", || {
        get(&cluster, &plain_key).is_some()
    });
    let (value, lease) = get(&cluster, &plain_key).unwrap();
    assert_eq!(value, format!("{}:8080", plain.bridge_ip()));
    assert_ne!(lease, 0, "instance keys are under the lease");

    // The healthcheck fails (no /state/healthy): Docker says unhealthy, nothing is written.
    within(&agent, WAIT, "docker reports web unhealthy", || web.health() == "unhealthy");
    within(&agent, WAIT, "the agent saw it", || {
        agent.log().contains(&format!("({}) is not registered: health: unhealthy", web.short_id()))
    });
    assert_eq!(get(&cluster, &web_key), None);

    // Healthy: registered, with the service's domains beside it (no lease).
    std::fs::write(state.path().join("healthy"), "").unwrap();
    within(&agent, WAIT, "web registered once healthy", || get(&cluster, &web_key).is_some());
    assert_eq!(get(&cluster, &web_key).unwrap().0, format!("{}:8080", web.bridge_ip()));
    assert_eq!(
        get(&cluster, "/dc1/subdomain/web"),
        Some(("www.example.com api.example.com".to_string(), 0))
    );

    // Unhealthy again: deregistered; the service key stays (other instances may serve it).
    std::fs::remove_file(state.path().join("healthy")).unwrap();
    within(&agent, WAIT, "web deregistered when unhealthy", || get(&cluster, &web_key).is_none());
    assert!(get(&cluster, "/dc1/subdomain/web").is_some());
    std::fs::write(state.path().join("healthy"), "").unwrap();
    within(&agent, WAIT, "web back when healthy", || get(&cluster, &web_key).is_some());

    // Stopped, removed: deregistered.
    web.stop();
    within(&agent, WAIT, "web deregistered when stopped", || get(&cluster, &web_key).is_none());
    plain.remove();
    within(&agent, WAIT, "api deregistered when removed", || get(&cluster, &plain_key).is_none());

    // The unlabelled container was never looked at: nothing of it anywhere.
    let everything = cluster.get_prefix("/");
    assert!(
        everything.iter().all(|(k, _)| !k.contains(other.short_id())),
        "the unlabelled container was registered: {everything:?}"
    );
    let log = agent.log();
    assert!(!log.contains(other.short_id()), "{log}");
    assert!(log.contains(&format!("registered container {} ({})", web.name, web.short_id())));
    assert!(log.contains(": health: unhealthy"), "deregistration says why:\n{log}");
    assert!(agent.lines("ERROR").is_empty(), "{log}");
}

#[test]
fn a_restarted_agent_neither_duplicates_nor_keeps_what_went_away_and_sigterm_removes_all() {
    need_docker!();
    // With least privilege, as examples/seed/etcd-rbac.sh sets it up: the registrar may read
    // and write only <prefix>/upstream/ and <prefix>/subdomain/.
    let cluster = EtcdCluster::start(1);
    let ctl = cluster.ctl();
    ctl.ok(&["role", "add", "registrar"]);
    for dir in ["/dc/upstream/", "/dc/subdomain/"] {
        ctl.ok(&["role", "grant-permission", "--prefix=true", "registrar", "readwrite", dir]);
    }
    ctl.ok(&["user", "add", "registrar:pw"]);
    ctl.ok(&["user", "grant-role", "registrar", "registrar"]);
    cluster.enable_auth("rootpw");
    let creds = ["--username", "registrar", "--password", "pw"];
    let lp = labels("restart");
    let state = tempfile::tempdir().unwrap();
    let a = service(&lp, "web", state.path(), &["--no-healthcheck"]);
    let b = service(&lp, "web", state.path(), &["--no-healthcheck"]);
    // A long TTL, so that only the agent, not the lease's expiry, can explain what goes.
    let with_creds = |ttl: &'static str| {
        let mut args = vec!["--ttl", ttl];
        args.extend(creds);
        args
    };
    let mut first = agent(&cluster, &lp, "/dc", &with_creds("60"));
    let (ka, kb) = (key("/dc", "web", &a), key("/dc", "web", &b));
    within(&first, WAIT, "both registered", || {
        get(&cluster, &ka).is_some() && get(&cluster, &kb).is_some()
    });
    // Someone else's instance under the same service: never touched.
    cluster.put("/dc/upstream/web/elsewhere-10.0.0.9_80", "10.0.0.9:80");
    let old_lease = get(&cluster, &ka).unwrap().1;

    // Killed: nothing is deregistered (the keys would expire with the lease).
    first.signal(rustix::process::Signal::KILL);
    first.wait_exit(Duration::from_secs(5));
    b.remove();
    let second = agent(&cluster, &lp, "/dc", &with_creds("60"));
    within(&second, WAIT, "b's registration from the first run removed", || {
        get(&cluster, &kb).is_none()
    });
    within(&second, WAIT, "a re-registered under the new lease", || {
        get(&cluster, &ka).is_some_and(|(_, lease)| lease != old_lease)
    });
    let instances: Vec<String> =
        cluster.get_prefix("/dc/upstream/web/").into_iter().map(|(k, _)| k).collect();
    assert_eq!(instances, vec!["/dc/upstream/web/elsewhere-10.0.0.9_80".to_string(), ka.clone()]);
    assert!(second.log().contains("left by an earlier run"), "{}", second.log());
    assert!(!second.log().contains("cannot look for registrations"), "{}", second.log());

    // SIGTERM: every instance key of this agent goes at once; exit status 0.
    let mut second = second;
    second.signal(rustix::process::Signal::TERM);
    assert_eq!(second.wait_exit(Duration::from_secs(5)).code(), Some(0));
    assert_eq!(get(&cluster, &ka), None);
    assert!(get(&cluster, "/dc/upstream/web/elsewhere-10.0.0.9_80").is_some());
    assert!(second.log().contains("deregistered 1 container(s)"), "{}", second.log());
}

#[test]
fn losing_the_engine_keeps_registrations_and_reconnecting_resynchronises_both_ways() {
    need_docker!();
    let cluster = EtcdCluster::start(1);
    let lp = labels("reconnect");
    let state = tempfile::tempdir().unwrap();
    let proxy = SocketProxy::start();
    let a = service(&lp, "web", state.path(), &["--no-healthcheck"]);
    let b = service(&lp, "web", state.path(), &["--no-healthcheck"]);
    let agent = agent(&cluster, &lp, "/dc", &["--docker-host", &proxy.url(), "--ttl", "5"]);
    let (ka, kb) = (key("/dc", "web", &a), key("/dc", "web", &b));
    within(&agent, WAIT, "both registered", || {
        get(&cluster, &ka).is_some() && get(&cluster, &kb).is_some()
    });

    proxy.cut();
    within(&agent, WAIT, "the outage said", || {
        agent.log().contains("retrying; the 2 registration(s)")
    });
    // While the agent cannot see Docker: one container goes, another comes.
    b.remove();
    let c = service(&lp, "web", state.path(), &["--no-healthcheck"]);
    let kc = key("/dc", "web", &c);
    std::thread::sleep(Duration::from_secs(1));
    assert!(get(&cluster, &ka).is_some() && get(&cluster, &kb).is_some(), "kept meanwhile");
    assert!(get(&cluster, &kc).is_none());

    proxy.restore();
    within(&agent, WAIT, "resynchronised: b gone, c registered", || {
        get(&cluster, &kb).is_none() && get(&cluster, &kc).is_some()
    });
    assert!(get(&cluster, &ka).is_some());
    assert!(agent.log().contains("Docker engine reachable again"), "{}", agent.log());
    assert_eq!(agent.lines("ERROR").len(), 1, "the outage is said once:\n{}", agent.log());
}

#[test]
fn a_removal_during_an_etcd_outage_is_done_when_etcd_is_back() {
    need_docker!();
    let cluster = EtcdCluster::start(1);
    let lp = labels("outage");
    let state = tempfile::tempdir().unwrap();
    let a = service(&lp, "web", state.path(), &["--no-healthcheck"]);
    let b = service(&lp, "web", state.path(), &["--no-healthcheck"]);
    let agent = agent(&cluster, &lp, "/dc", &["--ttl", "9"]);
    let (ka, kb) = (key("/dc", "web", &a), key("/dc", "web", &b));
    within(&agent, WAIT, "both registered", || {
        get(&cluster, &ka).is_some() && get(&cluster, &kb).is_some()
    });
    // etcd hangs longer than a keep-alive interval (TTL/3) but shorter than the TTL, so the
    // lease survives; meanwhile a container stops.
    cluster.member(0).pause();
    b.stop();
    within(&agent, WAIT, "the outage said", || !agent.lines("ERROR").is_empty());
    std::thread::sleep(Duration::from_secs(4));
    cluster.member(0).resume();
    within(&agent, WAIT, "b's removal done after the outage", || get(&cluster, &kb).is_none());
    within(&agent, WAIT, "a still registered", || get(&cluster, &ka).is_some());
    assert!(agent.log().contains("etcd is reachable again"), "{}", agent.log());
}

#[test]
fn host_mode_registers_the_published_port_and_bad_labels_are_said_once() {
    need_docker!();
    let cluster = EtcdCluster::start(1);
    let lp = labels("host");
    let state = tempfile::tempdir().unwrap();
    let published =
        service(&lp, "web", state.path(), &["--no-healthcheck", "-p", "127.0.0.1::8080"]);
    let bad_domain = format!("{lp}.domains=evil.com;include");
    let bad = service(&lp, "web", state.path(), &["--no-healthcheck", "-l", &bad_domain]);
    let agent = agent(&cluster, &lp, "/dc", &["--address", "host", "--host-ip", "10.1.1.1"]);
    let k = key("/dc", "web", &published);
    within(&agent, WAIT, "registered by its published port", || get(&cluster, &k).is_some());
    let host_port =
        published.inspect("{{(index (index .NetworkSettings.Ports \"8080/tcp\") 0).HostPort}}");
    assert_eq!(get(&cluster, &k).unwrap().0, format!("127.0.0.1:{host_port}"));
    within(&agent, WAIT, "the bad label reported", || {
        agent.log().contains("label") && agent.log().contains("invalid domain \"evil.com;include\"")
    });
    assert_eq!(get(&cluster, &key("/dc", "web", &bad)), None);
    // A restart of the bad container is seen again, but the same error is not said again.
    bad.stop();
    bad.start();
    within(&agent, WAIT, "the restart seen", || {
        agent.log().contains(&format!("({}) is not registered: not running", bad.short_id()))
    });
    // The restart is seen again (running, then inspected with the same labels), and the
    // same error is not said twice.
    within(&agent, WAIT, "the restarted container looked at", || {
        bad.inspect("{{.State.Running}}") == "true"
            && agent.log().matches(&format!("({})", bad.short_id())).count() >= 2
    });
    std::thread::sleep(Duration::from_millis(500));
    let errors = agent.lines("ERROR");
    assert_eq!(errors.len(), 1, "{}", agent.log());
    assert!(errors[0].contains("evil.com;include"), "{}", agent.log());
}

#[test]
fn bad_options_unreachable_docker_and_permission_denied_are_one_clear_error() {
    let nodes = ["http://127.0.0.1:9".to_string()];
    for (args, expect) in [
        (&["docker", "--address", "bogus"][..], "invalid --address \"bogus\""),
        (&["docker", "--docker-host", "tcp://1.2.3.4:2375"][..], "TCP endpoints are not supported"),
        (&["docker", "--host-ip", "10.0.0.1"][..], "--host-ip goes with --address host"),
        (&["docker", "--host-ip", "nope", "--address", "host"][..], "invalid --host-ip \"nope\""),
        (&["docker", "--label-prefix", "a b"][..], "invalid --label-prefix"),
        (&["docker", "--service", "web"][..], "unknown option \"--service\""),
    ] {
        let (code, _, stderr) = run(&nodes, args, &[]);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    let (code, stdout, _) = run(&nodes, &["docker", "--help"], &[]);
    assert_eq!(code, 0);
    assert!(stdout.contains("confd.service=NAME"));

    // No engine at the socket: said once, retried (the engine may be starting).
    let cluster = EtcdCluster::start(1);
    let agent = Agent::start(
        &cluster.endpoints(),
        &["docker", "--docker-host", "unix:///nonexistent/docker.sock"],
    );
    within(&agent, WAIT, "the unreachable engine said", || {
        agent.log().contains("cannot connect to the Docker engine at /nonexistent/docker.sock")
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(agent.lines("ERROR").len(), 1, "{}", agent.log());

    // A user that may not write under the prefix: one FATAL line, exit status 1.
    let auth = EtcdCluster::start_with(EtcdOptions::new(1));
    auth.add_user("reader", "pw", "dc-reader", Some("/dc/"), None);
    auth.enable_auth("rootpw");
    let (code, _, stderr) = run(
        &auth.endpoints(),
        &["docker", "--prefix", "/dc", "--username", "reader", "--password", "pw"],
        &[],
    );
    assert_eq!(code, 1, "{stderr}");
    let fatal: Vec<&str> = stderr.lines().filter(|l| l.contains(" FATAL ")).collect();
    assert_eq!(fatal.len(), 1, "{stderr}");
    assert!(fatal[0].contains("/dc/upstream/_probe"), "{stderr}");
}

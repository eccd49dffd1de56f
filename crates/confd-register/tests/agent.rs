//! confd-register, the real binary, against real etcd (testkit) and a real HTTP health endpoint
//! served by the test: registration while healthy, deregistration when not and on SIGTERM,
//! expiry when killed, etcd members and whole clusters failing, bad input.
//!
//! Intervals are short (`--interval 200ms --ttl 2`) so the suite takes seconds; every wait is
//! bounded, and every process the tests start is killed when its guard is dropped.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use testkit::scrape::{http_get, sample};
use testkit::{EtcdCluster, EtcdOptions};

mod common;
use common::{get, hostname, run, try_get, within, Agent};
/// `--interval 200ms --rise 2 --fall 3 --ttl 2`, as the tests run the agent.
const FAST: &[&str] = &["--interval", "200ms", "--rise", "2", "--fall", "3", "--ttl", "2"];
const TTL: Duration = Duration::from_secs(2);

/// An HTTP health endpoint: 200 while `healthy`, else 503.
struct Health {
    port: u16,
    healthy: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Health {
    fn start(healthy: bool) -> Health {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let h = Health {
            port,
            healthy: Arc::new(AtomicBool::new(healthy)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (ok, stop) = (h.healthy.clone(), h.stop.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = if ok.load(Ordering::SeqCst) {
                    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"
                } else {
                    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\nConnection: close\r\n\r\nsick\n"
                };
                let _ = conn.write_all(answer.as_bytes());
            }
        });
        h
    }

    fn set(&self, healthy: bool) {
        self.healthy.store(healthy, Ordering::SeqCst);
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/health", self.port)
    }
}

impl Drop for Health {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

#[test]
fn registers_when_healthy_deregisters_when_not_and_on_sigterm() {
    let cluster = EtcdCluster::start(1);
    let health = Health::start(false);
    let (addr, url) = (health.addr(), health.url());
    let mut args = vec![
        "--prefix",
        "/service_sgin",
        "--service",
        "web",
        "--domain",
        "www.example.com",
        "--domain",
        "*.example.org",
        "--addr",
        &addr,
        "--check",
        &url,
    ];
    args.extend(FAST);
    let mut agent = Agent::start(&cluster.endpoints(), &args);
    let sub = "/service_sgin/subdomain/web";
    let up = format!("/service_sgin/upstream/web/{}-127.0.0.1_{}", hostname(), health.port);

    // Unhealthy from the start: nothing is written.
    thread::sleep(Duration::from_secs(1));
    assert_eq!(cluster.get_prefix("/service_sgin"), vec![], "{}", agent.log());
    assert!(
        agent.log().contains("INFO not healthy: HTTP 503 Service Unavailable"),
        "{}",
        agent.log()
    );

    // Healthy (2 checks): the service key without a lease, the instance key under one.
    health.set(true);
    let took =
        within(&agent, Duration::from_secs(5), "registered", || get(&cluster, &up).is_some());
    eprintln!("registered {took:?} after turning healthy");
    let (value, lease1) = get(&cluster, &up).unwrap();
    assert_eq!(value, addr);
    assert_ne!(lease1, 0, "the instance key is under a lease");
    assert_eq!(get(&cluster, sub), Some(("www.example.com *.example.org".into(), 0)));
    let ttl = cluster.ctl().ok(&["lease", "timetolive", &format!("{lease1:x}"), "--keys"]);
    assert!(ttl.contains("granted with TTL(2s)") && ttl.contains(&up), "{ttl}");
    assert!(agent.log().contains("healthy after 2 checks"), "{}", agent.log());

    // Kept alive: still there, same lease, after more than the TTL.
    thread::sleep(TTL + Duration::from_millis(1500));
    assert_eq!(get(&cluster, &up), Some((addr.clone(), lease1)));

    // Unhealthy (3 failures): the instance key goes within interval × fall (+ slack); the
    // service key stays.
    health.set(false);
    let took =
        within(&agent, Duration::from_secs(4), "deregistered", || get(&cluster, &up).is_none());
    eprintln!("deregistered {took:?} after turning unhealthy");
    assert!(took < Duration::from_millis(600 + 1400), "interval × fall = 600ms, took {took:?}");
    assert_eq!(get(&cluster, sub), Some(("www.example.com *.example.org".into(), 0)));
    assert!(
        agent.log().contains("health check failed 3 times: HTTP 503 Service Unavailable"),
        "{}",
        agent.log()
    );

    // Recovers: registered again, under a new lease.
    health.set(true);
    within(&agent, Duration::from_secs(5), "registered again", || get(&cluster, &up).is_some());
    let (_, lease2) = get(&cluster, &up).unwrap();
    assert!(lease2 != 0 && lease2 != lease1);

    // SIGTERM: gone at once, exit 0.
    agent.signal(rustix::process::Signal::TERM);
    let took = within(&agent, Duration::from_secs(3), "deregistered on SIGTERM", || {
        get(&cluster, &up).is_none()
    });
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert_eq!(agent.wait_exit(Duration::from_secs(3)).code(), Some(0));
    assert_eq!(get(&cluster, sub), Some(("www.example.com *.example.org".into(), 0)));
    let log = agent.log();
    assert!(log.contains(&format!("INFO deregistered {up}={addr}: stopping (SIGTERM)")), "{log}");
    assert_eq!(agent.lines("ERROR"), Vec::<String>::new());
    assert_eq!(log.matches("INFO registered ").count(), 2, "{log}");
    assert_eq!(log.matches("INFO deregistered ").count(), 2, "{log}");
}

/// While not healthy the agent checks every `--start-interval` (default 250 ms), so a service
/// that starts answering is registered at once even with a long `--interval`; once healthy it
/// checks every `--interval`.
#[test]
fn checks_are_fast_until_healthy_then_every_interval() {
    let cluster = EtcdCluster::start(1);
    let health = Health::start(false);
    let (addr, url) = (health.addr(), health.url());
    let args = [
        "--prefix",
        "/service_sgin",
        "--service",
        "web",
        "--addr",
        &addr,
        "--check",
        &url,
        "--interval",
        "1h",
        "--ttl",
        "2",
    ];
    let agent = Agent::start(&cluster.endpoints(), &args);
    let up = format!("/service_sgin/upstream/web/{}-127.0.0.1_{}", hostname(), health.port);
    thread::sleep(Duration::from_millis(500));
    health.set(true);
    // With checks only every hour this could not happen within the test.
    let took =
        within(&agent, Duration::from_secs(5), "registered", || get(&cluster, &up).is_some());
    eprintln!(
        "registered {took:?} after the service turned healthy (rise 2, start interval 250ms)"
    );
    assert!(agent.log().contains("every 3600s (250ms while not healthy"), "{}", agent.log());
    // Healthy: the next check is an hour away, so a failure now goes unnoticed for a while.
    health.set(false);
    thread::sleep(Duration::from_secs(2));
    assert!(get(&cluster, &up).is_some(), "checked again before --interval: {}", agent.log());
}

/// `--metrics-addr`: /health, /ready after the first decision (with READY=1 to systemd),
/// counters and the instance gauge following what the agent did; STOPPING=1 on SIGTERM.
#[test]
fn metrics_readiness_and_systemd_notifications() {
    let cluster = EtcdCluster::start(1);
    let health = Health::start(false);
    let (addr, url) = (health.addr(), health.url());
    let port = testkit::free_port();
    let metrics_addr = format!("127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut args = vec![
        "--prefix",
        "/service_sgin",
        "--service",
        "web",
        "--addr",
        &addr,
        "--check",
        &url,
        "--metrics-addr",
        &metrics_addr,
    ];
    args.extend(FAST);
    let notify = socket_path.to_str().unwrap();
    let mut agent = Agent::start_env(&cluster.endpoints(), &args, &[("NOTIFY_SOCKET", notify)]);
    let notified = |want: &str| {
        let mut buf = [0u8; 256];
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(n) = socket.recv(&mut buf) {
                if String::from_utf8_lossy(&buf[..n]) == want {
                    return true;
                }
            }
        }
        false
    };

    // Unhealthy: decided (not registered), so ready; nothing registered.
    within(&agent, Duration::from_secs(5), "ready", || {
        http_get(port, "/ready").is_some_and(|(c, _)| c == 200)
    });
    assert!(notified("READY=1"), "{}", agent.log());
    assert_eq!(http_get(port, "/health").map(|(c, _)| c), Some(200));
    let failed = [("result", "failed")];
    let checks = sample(port, "confd_register_checks_total", &failed);
    assert!(checks.is_some_and(|v| v >= 1.0), "{checks:?} {:?}", http_get(port, "/metrics"));
    assert_eq!(sample(port, "confd_register_instances", &[]), Some(0.0));

    // Healthy: one registration, one instance.
    health.set(true);
    within(&agent, Duration::from_secs(5), "registered", || {
        sample(port, "confd_register_instances", &[]) == Some(1.0)
    });
    assert_eq!(sample(port, "confd_register_registrations_total", &[]), Some(1.0));
    let ok = [("result", "ok")];
    assert!(sample(port, "confd_register_checks_total", &ok).is_some_and(|v| v >= 2.0));

    // Unhealthy again: one deregistration.
    health.set(false);
    within(&agent, Duration::from_secs(5), "deregistered", || {
        sample(port, "confd_register_instances", &[]) == Some(0.0)
    });
    assert_eq!(sample(port, "confd_register_deregistrations_total", &[]), Some(1.0));

    agent.signal(rustix::process::Signal::TERM);
    assert_eq!(agent.wait_exit(Duration::from_secs(5)).code(), Some(0));
    assert!(notified("STOPPING=1"));
}

#[test]
fn killed_agent_keys_expire_with_the_lease() {
    let cluster = EtcdCluster::start(1);
    // No check: healthy while it runs; registers at once.
    let mut args = vec!["--prefix", "/p", "--service", "web", "--addr", "10.0.0.5:8080"];
    args.extend(["--instance", "i1"]);
    args.extend(FAST);
    let mut agent = Agent::start(&cluster.endpoints(), &args);
    within(&agent, Duration::from_secs(5), "registered", || {
        get(&cluster, "/p/upstream/web/i1").is_some()
    });
    thread::sleep(Duration::from_millis(500));

    agent.signal(rustix::process::Signal::KILL);
    agent.wait_exit(Duration::from_secs(2));
    let killed = Instant::now();
    assert!(get(&cluster, "/p/upstream/web/i1").is_some(), "nobody deleted it");
    within(&agent, TTL + Duration::from_millis(2000), "expired", || {
        get(&cluster, "/p/upstream/web/i1").is_none()
    });
    let took = killed.elapsed();
    eprintln!("expired {took:?} after kill -9");
    // The last keep-alive was at most TTL/3 before the kill.
    assert!(took > Duration::from_millis(1000), "expired with the lease, not before: {took:?}");
    assert!(agent.log().contains("registered /p/upstream/web/i1=10.0.0.5:8080 (lease "));
    assert!(agent.log().contains(": no health check"));
}

#[test]
fn registration_survives_a_killed_etcd_member() {
    let cluster = EtcdCluster::start(3);
    let leader = cluster.leader().expect("a leader");
    // The leader first: the agent talks to it, and killing it also forces an election.
    let mut nodes = cluster.endpoints();
    nodes.rotate_left(leader);
    let health = Health::start(true);
    let (addr, url) = (health.addr(), health.url());
    let mut args = vec!["--prefix", "/p", "--service", "web", "--addr", &addr, "--check", &url];
    args.extend(["--instance", "i1"]);
    args.extend(FAST);
    let agent = Agent::start(&nodes, &args);
    let key = "/p/upstream/web/i1";
    within(&agent, Duration::from_secs(5), "registered", || get(&cluster, key).is_some());
    let (_, lease) = get(&cluster, key).unwrap();
    thread::sleep(Duration::from_millis(300));

    cluster.member(leader).kill();
    let killed = Instant::now();
    // For three TTLs, whenever etcd answers, the key is there under the same lease.
    let mut answers = 0;
    while killed.elapsed() < 3 * TTL {
        if let Ok(found) = try_get(&cluster, key) {
            assert_eq!(
                found,
                Some((addr.clone(), lease)),
                "after {:?}:\n{}",
                killed.elapsed(),
                agent.log()
            );
            answers += 1;
        }
        thread::sleep(Duration::from_millis(100));
    }
    assert!(answers > 10, "etcd answered only {answers} times");
    let log = agent.log();
    assert!(!log.contains("lease lost") && !log.contains("deregistered"), "{log}");
}

#[test]
fn etcd_outages_unreachable_at_start_down_and_hung_longer_than_the_ttl() {
    let cluster = EtcdCluster::start(1);
    let member = cluster.member(0);
    let key = "/p/upstream/web/i1";

    // Unreachable at start: one clear error, the agent keeps going and registers when etcd
    // comes.
    member.kill();
    let mut args = vec!["--prefix", "/p", "--service", "web", "--addr", "10.0.0.5:8080"];
    args.extend(["--instance", "i1"]);
    args.extend(FAST);
    let mut agent = Agent::start(&cluster.endpoints(), &args);
    thread::sleep(Duration::from_secs(2));
    assert!(agent.running(), "{}", agent.log());
    let errors = agent.lines("ERROR");
    assert_eq!(errors.len(), 1, "one error for the outage: {errors:#?}");
    assert!(errors[0].contains("cannot reach etcd: tried http://127.0.0.1:"), "{}", errors[0]);
    member.restart();
    within(&agent, Duration::from_secs(5), "registered once etcd is up", || {
        get(&cluster, key).is_some()
    });
    assert!(agent.log().contains("INFO etcd is reachable again"), "{}", agent.log());

    // Down (killed) for longer than the TTL: etcd keeps leases across a restart and restarts
    // their TTL, so the keep-alive works again and the registration is rewritten under it.
    member.kill();
    thread::sleep(TTL + Duration::from_millis(1500));
    member.restart();
    within(&agent, Duration::from_secs(5), "registered after the restart", || {
        agent.log().contains("registration refreshed") || agent.log().contains("lease lost")
    });
    thread::sleep(TTL + Duration::from_millis(500));
    let (_, lease) = get(&cluster, key).expect("registered after etcd was down");

    // Hung (SIGSTOP) for longer than the TTL: when it runs again, its lessor finds the lease
    // expired and revokes it (the keys go); the next keep-alive learns the lease is gone, and
    // the agent grants a new one and registers again.
    member.pause();
    thread::sleep(TTL + Duration::from_millis(1500));
    member.resume();
    within(
        &agent,
        Duration::from_secs(8),
        "re-registered under a new lease",
        || matches!(get(&cluster, key), Some((_, l)) if l != lease),
    );
    let log = agent.log();
    assert!(log.contains("WARNING lease lost: re-registering (lease "), "{log}");
    assert!(log.contains(&format!("INFO registered {key}=10.0.0.5:8080 (lease ")), "{log}");
    assert!(log.contains("TTL 2s): lease lost\n"), "{log}");
    agent.signal(rustix::process::Signal::TERM);
    assert_eq!(agent.wait_exit(Duration::from_secs(5)).code(), Some(0));
    assert_eq!(get(&cluster, key), None);
}

#[test]
fn tcp_and_command_checks_and_generic_keys() {
    let cluster = EtcdCluster::start(1);
    let endpoints = cluster.endpoints();

    // tcp://: healthy while the port accepts connections.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let check = format!("tcp://{addr}");
    let mut args = vec!["--prefix", "/p", "--service", "tcp", "--addr", &addr, "--check", &check];
    args.extend(["--instance", "t1"]);
    args.extend(FAST);
    let tcp = Agent::start(&endpoints, &args);

    // --check-cmd, and a generic registration (only --key): healthy while a file exists.
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("healthy");
    File::create(&flag).unwrap();
    let cmd = format!("test -e '{}'", flag.display());
    let mut args = vec!["--prefix", "/gen", "--key", "app/x=1", "--key", "/app/y=a.b:2"];
    args.extend(["--check-cmd", &cmd]);
    args.extend(FAST);
    let generic = Agent::start(&endpoints, &args);

    within(&tcp, Duration::from_secs(5), "tcp registered", || {
        get(&cluster, "/p/upstream/tcp/t1").is_some()
    });
    within(&generic, Duration::from_secs(5), "generic registered", || {
        get(&cluster, "/gen/app/y").is_some()
    });
    let (x, lx) = get(&cluster, "/gen/app/x").unwrap();
    assert_eq!((x.as_str(), get(&cluster, "/gen/app/y").unwrap()), ("1", ("a.b:2".into(), lx)));
    assert_ne!(lx, 0);
    assert_eq!(cluster.get_prefix("/gen").len(), 2);

    drop(listener);
    std::fs::remove_file(&flag).unwrap();
    within(&tcp, Duration::from_secs(4), "tcp deregistered", || {
        get(&cluster, "/p/upstream/tcp/t1").is_none()
    });
    within(&generic, Duration::from_secs(4), "generic deregistered", || {
        cluster.get_prefix("/gen").is_empty()
    });
    assert!(tcp.log().contains("health check failed 3 times: connection refused"), "{}", tcp.log());
    assert!(
        generic.log().contains("health check failed 3 times: the command exited with status 1"),
        "{}",
        generic.log()
    );
}

#[test]
fn bad_input_is_one_clear_error_and_writes_nothing() {
    let cluster = EtcdCluster::start(1);
    let nodes = cluster.endpoints();
    let base = ["--prefix", "/p", "--service", "web", "--domain", "www.example.com"];
    let cases: &[(&[&str], &str)] = &[
        (&["--addr", "10.0.0.1"], "invalid --addr \"10.0.0.1\": expected HOST:PORT"),
        (&["--addr", "10.0.0.1:99999"], "the port \"99999\" is not a number from 1 to 65535"),
        (
            &["--addr", "10.0.0.1:80; evil"],
            "invalid --addr \"10.0.0.1:80; evil\": the port \"80; evil\" is not a number",
        ),
        (&["--addr", "evil;}:80"], "';' is not allowed"),
        (
            &["--addr", "1.2.3.4:80", "--domain", "www.example.com;}"],
            "invalid --domain \"www.example.com;}\"",
        ),
        (&["--addr", "1.2.3.4:80", "--domain", "bad_name.com"], "'_' is not allowed"),
        (&["--addr", "1.2.3.4:80", "--key", "x=1;}server{"], "';' is not allowed in a value"),
        (&["--addr", "1.2.3.4:80", "--instance", "../x"], "invalid --instance \"../x\""),
        (&["--addr", "1.2.3.4:80", "--prefix=p"], "--prefix is given more than once"),
        (&["--addr", "1.2.3.4:80", "--chek", "tcp://a:1"], "unknown option \"--chek\""),
    ];
    for (extra, expected) in cases {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let (code, _, stderr) = run(&nodes, &args, &[]);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(stderr.starts_with("confd-register: "), "{stderr}");
        assert!(stderr.contains(expected), "{args:?}: expected {expected:?} in {stderr}");
    }
    let (code, stdout, _) = run(&nodes, &["--help"], &[]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("Usage: confd-register"));
    let (code, stdout, _) = run(&nodes, &["--version"], &[]);
    assert_eq!((code, stdout.trim()), (0, "confd-register 0.1.0"));
    assert_eq!(cluster.get_prefix("/"), vec![], "nothing was written");
}

#[test]
fn permission_denied_and_wrong_password_are_one_clear_error() {
    let cluster = EtcdCluster::start_with(EtcdOptions::new(1));
    let nodes = cluster.endpoints();
    cluster.add_user("reg", "pw", "other-writer", Some("/other"), Some("/other"));
    cluster.add_user("svc", "svc-pw", "svc-writer", None, Some("/svc"));
    cluster.enable_auth("rootpw");
    let dir = tempfile::tempdir().unwrap();
    let pw_file = dir.path().join("pw");
    std::fs::write(&pw_file, "pw\n").unwrap();
    let pw_file = pw_file.to_str().unwrap();
    let mut args = vec!["--prefix", "/svc", "--service", "web", "--domain", "www.example.com"];
    args.extend(["--addr", "10.0.0.5:8080", "--instance", "i1"]);
    args.extend(FAST);

    // A user that may write only another prefix: refused before any health check, naming the
    // first key.
    let mut a = args.clone();
    a.extend(["--username", "reg", "--password-file", pw_file]);
    let (code, _, stderr) = run(&nodes, &a, &[]);
    assert_eq!(code, 1, "{stderr}");
    let fatal: Vec<&str> = stderr.lines().filter(|l| l.contains("]: FATAL ")).collect();
    assert_eq!(fatal.len(), 1, "{stderr}");
    assert!(
        fatal[0].contains("permission denied: user \"reg\" may not write /svc/subdomain/web"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().filter(|l| l.contains("]: ERROR ")).count(), 0, "{stderr}");

    // A wrong password.
    let mut a = args.clone();
    a.extend(["--username", "svc", "--password-env", "REG_PW"]);
    let (code, _, stderr) = run(&nodes, &a, &[("REG_PW", "wrong")]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("FATAL authentication failed: invalid user or password"), "{stderr}");
    assert_eq!(cluster.get_prefix("/svc"), vec![]);

    // The right user (write-only on its prefix), password from the environment: registers,
    // and deregisters on SIGTERM.
    let mut agent = Agent::start_env(&nodes, &a, &[("REG_PW", "svc-pw")]);
    within(&agent, Duration::from_secs(5), "registered", || {
        get(&cluster, "/svc/upstream/web/i1").is_some()
    });
    assert_eq!(get(&cluster, "/svc/subdomain/web"), Some(("www.example.com".into(), 0)));
    agent.signal(rustix::process::Signal::TERM);
    assert_eq!(agent.wait_exit(Duration::from_secs(3)).code(), Some(0));
    assert_eq!(get(&cluster, "/svc/upstream/web/i1"), None, "{}", agent.log());
}

#[test]
fn tls_with_client_certificates() {
    let cluster = EtcdCluster::start_with(EtcdOptions::new(1).client_cert_auth());
    let nodes = cluster.endpoints();
    let files = cluster.tls_files().unwrap();
    let (ca, cert, key) =
        (files.ca.to_str().unwrap(), files.cert.to_str().unwrap(), files.key.to_str().unwrap());
    let mut args = vec!["--prefix", "/p", "--service", "web", "--addr", "10.0.0.5:8080"];
    args.extend(["--instance", "i1", "--client-ca-keys", ca]);
    args.extend(FAST);

    // Without a client certificate: one clear TLS error.
    let (code, _, stderr) = run(&nodes, &args, &[]);
    assert_eq!(code, 1, "{stderr}");
    let fatal: Vec<&str> = stderr.lines().filter(|l| l.contains("]: FATAL ")).collect();
    assert_eq!(fatal.len(), 1, "{stderr}");
    assert!(fatal[0].contains("TLS with etcd at https://127.0.0.1:"), "{stderr}");

    args.extend(["--client-cert", cert, "--client-key", key]);
    let mut agent = Agent::start(&nodes, &args);
    within(&agent, Duration::from_secs(5), "registered", || {
        get(&cluster, "/p/upstream/web/i1").is_some()
    });
    agent.signal(rustix::process::Signal::INT);
    assert_eq!(agent.wait_exit(Duration::from_secs(3)).code(), Some(0));
    assert_eq!(get(&cluster, "/p/upstream/web/i1"), None);
    assert!(agent.log().contains(": stopping (SIGINT)"), "{}", agent.log());
}

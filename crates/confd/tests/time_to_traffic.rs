//! Time to traffic, end to end, with default settings (issue 13): a service instance starts
//! answering → its `confd-register` agent (already running, checking it) registers it → `confd
//! -watch` renders → nginx reloads (production) or takes a push (dynamic) → the first request
//! is served by it. Real etcd, nginx and both binaries. The times are printed (`--nocapture`)
//! and recorded in docs/BENCHMARKS.md, not asserted; the test asserts that each instance is
//! served.

mod seed;

use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use seed::{register_bin, request, routes, Backend, Front, Mode, Proc, WAIT};
use testkit::{free_port, EtcdCluster};

const PREFIX: &str = "/service_sgin_bx";
const ROUNDS: usize = 5;

/// An agent with the defaults (`--interval 5s --rise 2 --start-interval 250ms`) for an
/// instance of `web` on `port`.
fn agent(cluster: &EtcdCluster, name: &str, port: u16, logs: &std::path::Path) -> Proc {
    let addr = format!("127.0.0.1:{port}");
    let mut cmd = Command::new(register_bin());
    cmd.args(["--prefix", PREFIX, "--service", "web", "--domain", "www.example.com"])
        .args(["--addr", &addr, "--instance", name])
        .args(["--check", &format!("http://{addr}/health")]);
    for n in cluster.endpoints() {
        cmd.args(["--node", &n]);
    }
    Proc::spawn(&format!("agent-{name}"), &mut cmd, logs)
}

fn measure(mode: Mode) -> Vec<Duration> {
    let logs = tempfile::tempdir().unwrap();
    let cluster = EtcdCluster::start(1);
    let first = Backend::start("web-0");
    cluster.put(&format!("{PREFIX}/subdomain/web"), "www.example.com");
    cluster.put(&format!("{PREFIX}/upstream/web/web-0"), &first.addr());
    let front = Front::start_mode(&cluster, "bx", None, logs.path(), mode);
    routes(front.port, "www.example.com", 2, &["web-0"]);
    let mut times = Vec::new();
    let mut keep = Vec::new();
    for round in 1..=ROUNDS {
        let name = format!("web-{round}");
        let port = free_port();
        let agent = agent(&cluster, &name, port, logs.path());
        thread::sleep(Duration::from_secs(2)); // the agent checks a service not yet there
        let start = Instant::now();
        let backend = Backend::start_on(&name, port);
        let served = loop {
            if matches!(request(front.port, "www.example.com"), Ok((200, b, _)) if b == name) {
                break Some(start.elapsed());
            }
            if start.elapsed() > WAIT {
                break None;
            }
        };
        let served = served.unwrap_or_else(|| {
            panic!("{name} never served; agent:\n{}\nconfd:\n{}", agent.log(), front.confd.log())
        });
        times.push(served);
        keep.push((agent, backend));
    }
    times.sort();
    println!(
        "{mode:?}: service answers → first request served by it: median {:?}, max {:?} ({ROUNDS} instances)",
        times[ROUNDS / 2],
        times[ROUNDS - 1]
    );
    times
}

#[test]
fn time_to_traffic_with_default_settings() {
    for mode in [Mode::Production, Mode::Dynamic] {
        assert_eq!(measure(mode).len(), ROUNDS);
    }
}

//! The seed's whole system on one machine, with real programs: a 3-member etcd cluster with
//! least-privilege users (made by `examples/seed/etcd-rbac.sh`), two data centres (prefixes
//! `/service_sgin_bx` and `/service_sgin_yz`), each with its own nginx fed by its own
//! `confd -watch` (the production templates of `examples/seed/production`, `nginx -t` before
//! every swap), backends registered by `confd-register` agents with their data centre's
//! registrar user.
//!
//! One test, in the order an operator would meet things: routing by Host, strangers refused, a
//! value that would break nginx's syntax, a backend leaving and joining under traffic, a burst of instances, an
//! etcd member killed. Needs both binaries: `cargo test --workspace` builds them.

mod seed;

use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use seed::{
    agent, register_bin, repo, request, routes, Backend, Front, Traffic, CONFD, REDIRECT, WAIT,
};
use testkit::{wait_until, EtcdCluster, EtcdOptions};

const ROOT_PASSWORD: &str = "root-only-for-setup";

fn password(secrets: &Path, user: &str) -> String {
    std::fs::read_to_string(secrets.join(format!("{user}.password"))).unwrap().trim().to_string()
}

#[test]
fn the_seed_system_end_to_end() {
    let logs = tempfile::tempdir().unwrap();
    let logs = logs.path();
    let secrets = tempfile::tempdir().unwrap();
    let secrets = secrets.path();

    // --- etcd ×3 with least privilege, set up by the shipped script.
    let cluster = EtcdCluster::start_with(EtcdOptions::new(3));
    cluster.enable_auth(ROOT_PASSWORD);
    let out = Command::new(repo().join("examples/seed/etcd-rbac.sh"))
        .args(["--endpoints", &cluster.endpoints().join(","), "--secrets"])
        .arg(secrets)
        .args(["/service_sgin_bx", "/service_sgin_yz"])
        .env("ETCD_ROOT_PASSWORD", ROOT_PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "etcd-rbac.sh: {}", String::from_utf8_lossy(&out.stderr));

    // --- two data centres, each its nginx and confd; backends and their agents.
    let bx = Front::start(&cluster, "bx", Some(secrets), logs);
    let yz = Front::start(&cluster, "yz", Some(secrets), logs);
    let web = ["www.example.com", "example.com"];
    let (bx_web1, bx_web2, bx_api1, yz_web1) = (
        Backend::start("bx-web-1"),
        Backend::start("bx-web-2"),
        Backend::start("bx-api-1"),
        Backend::start("yz-web-1"),
    );
    let _agents = [
        agent(&cluster, "bx", "web", &web, &bx_web1, secrets, logs),
        agent(&cluster, "bx", "web", &web, &bx_web2, secrets, logs),
        agent(&cluster, "bx", "api", &["api.example.com"], &bx_api1, secrets, logs),
        agent(&cluster, "yz", "web", &web, &yz_web1, secrets, logs),
    ];
    bx.wait_config("bx routes its three backends", |c| {
        [&bx_web1, &bx_web2, &bx_api1].iter().all(|b| c.contains(&format!("server {};", b.addr())))
    });
    yz.wait_config("yz routes its backend", |c| c.contains(&format!("server {};", yz_web1.addr())));

    // --- Routing: each Host reaches only its service's backends, every one of them; no
    // crosstalk between data centres; unknown Hosts get the default server's redirect.
    routes(bx.port, "www.example.com", 20, &["bx-web-1", "bx-web-2"]);
    routes(bx.port, "example.com", 10, &["bx-web-1", "bx-web-2"]);
    routes(bx.port, "api.example.com", 10, &["bx-api-1"]);
    routes(yz.port, "www.example.com", 10, &["yz-web-1"]);
    for (port, host) in [(bx.port, "unknown.example.org"), (yz.port, "api.example.com")] {
        let (status, _, location) = request(port, host).unwrap();
        assert_eq!((status, location.as_str()), (302, REDIRECT), "{host} on :{port}");
    }
    assert!(!bx.config().contains(&yz_web1.addr()) && !yz.config().contains(&bx_web1.addr()));

    // --- Strangers are refused, and so is everyone outside their grant.
    let ctl = cluster.ctl();
    let refused = |ctl: testkit::Etcdctl<'_>, key: &str, who: &str| {
        let out = ctl.run(&["put", key, "127.0.0.1:1"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{who} wrote {key}");
        assert!(
            err.contains("permission denied") || err.contains("user name is empty"),
            "{who}: {err}"
        );
    };
    refused(cluster.ctl().anonymous(), "/service_sgin_bx/upstream/web/x", "an anonymous client");
    let reg_bx = password(secrets, "registrar-bx");
    refused(
        cluster.ctl().user("registrar-bx", &reg_bx),
        "/service_sgin_yz/upstream/web/x",
        "bx's registrar in yz",
    );
    refused(
        cluster.ctl().user("registrar-bx", &reg_bx),
        "/service_sgin_bx/other",
        "bx's registrar outside upstream/ and subdomain/",
    );
    refused(
        cluster.ctl().user("confd-bx", &password(secrets, "confd-bx")),
        "/service_sgin_bx/upstream/web/x",
        "bx's confd",
    );
    assert_eq!(cluster.get_prefix("/service_sgin_bx/upstream/web/").len(), 2);

    // --- A value that would break nginx's syntax (written with a privileged account): the
    // template's `addr` leaves it out with a warning naming it; the live config and the
    // traffic stay as they are; the next good change applies. (tests/injection.rs takes the
    // hostile values one by one.)
    let live = bx.config();
    let traffic = Traffic::start(bx.port, "www.example.com");
    ctl.ok(&["put", "/service_sgin_bx/upstream/web/evil", "127.0.0.1:1 no_such_parameter"]);
    assert!(
        wait_until(WAIT, || bx.confd.log().contains("no_such_parameter")),
        "the rejected render is not logged:\n{}",
        bx.confd.log()
    );
    thread::sleep(Duration::from_millis(500));
    assert_eq!(bx.config(), live, "the live config changed after a failed check");
    let bx_web3 = Backend::start("bx-web-3");
    let _agent3 = agent(&cluster, "bx", "web", &web, &bx_web3, secrets, logs);
    ctl.ok(&["del", "/service_sgin_bx/upstream/web/evil"]);
    bx.wait_config("the next good change applies", |c| c.contains(&bx_web3.addr()));
    assert!(!bx.config().contains("no_such_parameter"));
    let (total, failures) = traffic.finish();
    assert!(failures.is_empty(), "{} of {total} requests failed: {:?}", failures.len(), failures);
    routes(bx.port, "www.example.com", 30, &["bx-web-1", "bx-web-2", "bx-web-3"]);

    // --- A backend stops: out of rotation with no failed request (nginx retries the next
    // upstream until the agent's deregistration reaches nginx.conf).
    let traffic = Traffic::start(bx.port, "www.example.com");
    bx_web2.stop();
    bx.wait_config("bx-web-2 out of rotation", |c| !c.contains(&bx_web2.addr()));
    thread::sleep(Duration::from_millis(300));
    let (total, failures) = traffic.finish();
    assert!(failures.is_empty(), "{} of {total} requests failed: {:?}", failures.len(), failures);
    routes(bx.port, "www.example.com", 20, &["bx-web-1", "bx-web-3"]);

    // --- A burst of 50 new instances, registered as one registrar does it (as the Docker
    // mode does for the containers of a host): one connection, one lease, one transaction per
    // instance. At most 3 reloads.
    let before = bx.reloads();
    let mut cfg = confd_etcd::EtcdConfig::new(cluster.endpoints());
    (cfg.username, cfg.password) = (Some("registrar-bx".into()), Some(reg_bx.clone()));
    let registrar = confd_etcd::Etcd::connect(cfg).unwrap();
    let lease = registrar.grant(30).unwrap();
    let started = std::time::Instant::now();
    for i in 0..50 {
        let key = format!("/service_sgin_bx/upstream/web/burst-{i}");
        registrar.register(lease.id, &[], &[(key, bx_web1.addr())]).unwrap();
    }
    let burst = started.elapsed();
    bx.wait_config("all 50 instances rendered", |c| {
        c.matches(&format!("server {};", bx_web1.addr())).count() == 51
    });
    thread::sleep(Duration::from_millis(1500)); // any late reload of the burst
    let burst_reloads = bx.reloads() - before;
    assert!(
        (1..=3).contains(&burst_reloads),
        "{burst_reloads} reloads for a burst of 50 registrations over {burst:?}"
    );
    // The registrar's lease goes, and with it 50 of the 55 keys at once: fail static holds
    // that (a wiped store looks the same) and says so; SIGUSR1 releases it.
    registrar.revoke(lease.id).unwrap();
    assert!(
        wait_until(WAIT, || bx.confd.log().contains("would remove 50 of the 55 keys")),
        "the removal is not held:\n{}",
        bx.confd.log()
    );
    let burst_servers = |c: &str| c.matches(&format!("server {};", bx_web1.addr())).count();
    assert_eq!(burst_servers(&bx.config()), 51, "held: the last config stays");
    bx.confd.signal(rustix::process::Signal::USR1);
    bx.wait_config("the burst removed", |c| burst_servers(c) == 1);

    // --- An etcd member killed: traffic and registration go on.
    let traffic = Traffic::start(bx.port, "www.example.com");
    cluster.member(0).kill();
    let bx_web4 = Backend::start("bx-web-4");
    let _agent4 = agent(&cluster, "bx", "web", &web, &bx_web4, secrets, logs);
    bx.wait_config("a new backend registers with a member down", |c| c.contains(&bx_web4.addr()));
    bx_web3.stop();
    bx.wait_config("a backend leaves with a member down", |c| !c.contains(&bx_web3.addr()));
    let (total, failures) = traffic.finish();
    assert!(failures.is_empty(), "{} of {total} requests failed: {:?}", failures.len(), failures);
    routes(bx.port, "www.example.com", 20, &["bx-web-1", "bx-web-4"]);
    routes(yz.port, "www.example.com", 5, &["yz-web-1"]);

    // Every config confd installed passed nginx -t; the last one still does.
    bx.prefix.test(Path::new("conf/nginx.conf")).unwrap();
    yz.prefix.test(Path::new("conf/nginx.conf")).unwrap();
}

/// `examples/seed/demo.sh`, as a new user runs it (with the binaries this test run built):
/// it must run to completion and leave no process and no file behind.
#[test]
fn the_demo_runs_to_completion_and_leaves_nothing_behind() {
    let output = run_demo(&[]);
    assert!(output.contains("data centre yz"), "{output}");
}

/// The same for `demo.sh --dynamic` (live membership): it checks itself that instances
/// changed without a reload, under traffic and during a download.
#[test]
fn the_dynamic_demo_runs_to_completion_and_leaves_nothing_behind() {
    let output = run_demo(&["--dynamic"]);
    assert!(output.contains("(unchanged); reloads: none"), "{output}");
}

/// Runs the demo with `args`, checks that it succeeded and left nothing behind; its output.
fn run_demo(args: &[&str]) -> String {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let tmp = tempfile::tempdir().unwrap();
    // The demo's nginx workers run as nobody when the tests run as root.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = tmp.path().join("demo.log");
    let started = std::time::Instant::now();
    let mut child = Command::new("bash")
        .arg(repo().join("examples/seed/demo.sh"))
        .args(args)
        .env("CONFD_BIN", CONFD)
        .env("REGISTER_BIN", register_bin())
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(tmp.path().join("demo.err")).unwrap())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut status = None;
    wait_until(Duration::from_secs(240), || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    let output = || {
        let read = |f: &str| std::fs::read_to_string(tmp.path().join(f)).unwrap_or_default();
        format!("{}\n--- stderr:\n{}", read("demo.log"), read("demo.err"))
    };
    if status.is_none() {
        if let Some(pg) = rustix::process::Pid::from_raw(child.id() as i32) {
            let _ = rustix::process::kill_process_group(pg, rustix::process::Signal::KILL);
        }
        let _ = child.wait();
        panic!("the demo did not end within 240 s:\n{}", output());
    }
    eprintln!("the demo ran for {:.1} s", started.elapsed().as_secs_f64());
    assert!(status.unwrap().success(), "the demo failed:\n{}", output());
    assert!(output().contains("summary"), "{}", output());

    // Nothing of it runs any more: no process has the demo's directory in its command line.
    let marker = tmp.path().to_string_lossy().into_owned();
    let mut left = Vec::new();
    wait_until(Duration::from_secs(5), || {
        left = processes_mentioning(&marker);
        left.is_empty()
    });
    assert!(left.is_empty(), "the demo left processes behind: {left:?}");
    let files: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("confd-seed-demo."))
        .collect();
    assert!(files.is_empty(), "the demo left {files:?} in {marker}");
    output()
}

/// `pid: command line` of every process whose command line contains `text`.
fn processes_mentioning(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) || name == std::process::id().to_string() {
            continue;
        }
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
        if cmdline.contains(text) {
            found.push(format!("{name}: {cmdline}"));
        }
    }
    found
}

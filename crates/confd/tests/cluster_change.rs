//! The seed's appendix under a running fleet: `etcdctl member add` a fourth member, then
//! `member remove` each of the three original ones, one at a time (quorum kept), while three
//! `confd -watch` and confd-register agents run, all started with only the three original
//! members as `-node`s, as least-privilege users (`examples/seed/etcd-rbac.sh`). Member
//! discovery (`-member-refresh`) must carry every one of them over: no restart, every
//! registration made along the way reaches every dest, the agents keep their leases alive, and
//! at the end, with none of the `-node`s left, the fleet still works on the fourth member.
//! Needs both binaries: `cargo test --workspace` builds them.

mod seed;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use seed::{register_bin, repo, Proc, CONFD, WAIT};
use testkit::{wait_until, EtcdCluster};

const ROOT_PASSWORD: &str = "root-only-for-setup";
const PREFIX: &str = "/service_sgin_bx";
const REFRESH: &str = "300ms";
const FLEET: usize = 3;

const RESOURCE: &str = r#"[template]
src = "upstreams.tmpl"
dest = "DEST"
keys = ["/upstream"]
reload_cmd = "echo reload >> RELOADS"
"#;

const TEMPLATE: &str = "{{range gets \"/upstream/*/*\"}}{{.Key}} {{.Value}}\n{{end}}";

/// One `confd -watch` of the fleet, with its own confdir and dest.
struct Member {
    proc: Proc,
    dest: PathBuf,
    _dir: tempfile::TempDir,
}

impl Member {
    fn start(i: usize, nodes: &[String], secrets: &Path, logs: &Path) -> Member {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("upstreams.conf");
        let reloads = dir.path().join("reloads");
        std::fs::create_dir_all(dir.path().join("conf.d")).unwrap();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        let resource = RESOURCE
            .replace("DEST", &dest.display().to_string())
            .replace("RELOADS", &reloads.display().to_string());
        std::fs::write(dir.path().join("conf.d/upstreams.toml"), resource).unwrap();
        std::fs::write(dir.path().join("templates/upstreams.tmpl"), TEMPLATE).unwrap();
        let mut cmd = Command::new(CONFD);
        cmd.args([
            "-backend",
            "etcdv3",
            "-watch",
            "-prefix",
            PREFIX,
            "-config-file",
            "/nonexistent",
        ])
        .args(["-basic-auth", "-username", "confd-bx", "-password-file"])
        .arg(secrets.join("confd-bx.password"))
        .args(["-member-refresh", REFRESH, "-log-level", "info", "-confdir"])
        .arg(dir.path());
        for n in nodes {
            cmd.args(["-node", n]);
        }
        Member { proc: Proc::spawn(&format!("confd-{i}"), &mut cmd, logs), dest, _dir: dir }
    }

    fn dest(&self) -> String {
        std::fs::read_to_string(&self.dest).unwrap_or_default()
    }
}

/// An agent registering instance `name` of service `web`, with no health check (healthy while
/// it runs), as the data centre's registrar.
fn agent(name: &str, addr: &str, nodes: &[String], secrets: &Path, logs: &Path) -> Proc {
    let mut cmd = Command::new(register_bin());
    cmd.args(["--prefix", PREFIX, "--service", "web", "--domain", "www.example.com"])
        .args(["--addr", addr, "--instance", name, "--ttl", "5"])
        .args(["--member-refresh", REFRESH, "--username", "registrar-bx", "--password-file"])
        .arg(secrets.join("registrar-bx.password"));
    for n in nodes {
        cmd.args(["--node", n]);
    }
    Proc::spawn(&format!("agent-{name}"), &mut cmd, logs)
}

/// Whether `log` says member discovery added (`what` = "added") or removed `url`.
fn followed(log: &str, what: &str, url: &str) -> bool {
    log.lines().filter(|l| l.contains("etcd members changed")).any(|l| {
        l.split_once(&format!("{what}: "))
            .is_some_and(|(_, rest)| rest.split([',', ';', ')']).any(|u| u.trim() == url))
    })
}

#[test]
fn a_fleet_follows_the_cluster_from_three_members_to_a_fourth_alone() {
    let logs = tempfile::tempdir().unwrap();
    let logs = logs.path();
    let secrets = tempfile::tempdir().unwrap();
    let secrets = secrets.path();

    let mut cluster = EtcdCluster::start(3);
    cluster.enable_auth(ROOT_PASSWORD);
    let out = Command::new(repo().join("examples/seed/etcd-rbac.sh"))
        .args(["--endpoints", &cluster.endpoints().join(","), "--secrets"])
        .arg(secrets)
        .arg(PREFIX)
        .env("ETCD_ROOT_PASSWORD", ROOT_PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "etcd-rbac.sh: {}", String::from_utf8_lossy(&out.stderr));
    let seeds = cluster.endpoints();

    let mut fleet: Vec<Member> =
        (0..FLEET).map(|i| Member::start(i, &seeds, secrets, logs)).collect();
    let mut agents = vec![agent("a0", "10.0.0.1:80", &seeds, secrets, logs)];
    let mut registered = vec!["a0 10.0.0.1:80".to_string()];
    let wait_everywhere = |fleet: &[Member], registered: &[String], when: &str| {
        for (i, m) in fleet.iter().enumerate() {
            let all = wait_until(WAIT, || {
                let dest = m.dest();
                registered.iter().all(|r| {
                    let (name, addr) = r.split_once(' ').expect("name addr");
                    dest.contains(&format!("/upstream/web/{name} {addr}\n"))
                })
            });
            assert!(all, "{when}: confd-{i}'s dest lacks a registration:\n{}", m.dest());
        }
    };
    wait_everywhere(&fleet, &registered, "at start");

    // member add: everyone takes up the fourth member.
    let fourth = cluster.add_member();
    let new_url = cluster.member(fourth).client_url();
    let everyone_added = |fleet: &[Member], agents: &[Proc]| {
        fleet.iter().map(|m| &m.proc).chain(agents).all(|p| followed(&p.log(), "added", &new_url))
    };
    assert!(
        wait_until(WAIT, || everyone_added(&fleet, &agents)),
        "not every process took up {new_url}"
    );
    agents.push(agent("a1", "10.0.0.2:80", &seeds, secrets, logs));
    registered.push("a1 10.0.0.2:80".into());
    wait_everywhere(&fleet, &registered, "after member add");

    // member remove, each original member in turn; a registration after each.
    let instances = [("a2", "10.0.0.3:80"), ("a3", "10.0.0.4:80"), ("a4", "10.0.0.5:80")];
    for (gone, (name, addr)) in instances.iter().enumerate() {
        cluster.remove_member(gone);
        assert!(cluster.wait_healthy(WAIT), "quorum lost after removing m{gone}");
        let removed = &seeds[gone];
        let dropped = wait_until(WAIT, || {
            fleet
                .iter()
                .map(|m| &m.proc)
                .chain(&agents)
                .all(|p| followed(&p.log(), "removed", removed))
        });
        assert!(dropped, "not every process let go of {removed}");
        // A new agent is given the members left (after the last removal, the fourth alone).
        let live: Vec<String> = seeds[gone + 1..].iter().chain([&new_url]).cloned().collect();
        agents.push(agent(name, addr, &live, secrets, logs));
        registered.push(format!("{name} {addr}"));
        wait_everywhere(&fleet, &registered, &format!("after removing m{gone}"));
    }

    // Longer than the agents' TTL on the fourth member alone: every lease is still kept alive.
    std::thread::sleep(Duration::from_secs(6));
    let keys = cluster.get_prefix(&format!("{PREFIX}/upstream/web/"));
    assert_eq!(keys.len(), registered.len(), "{keys:?}");
    wait_everywhere(&fleet, &registered, "at the end");

    // No restart, and one and the same dest everywhere.
    for m in &mut fleet {
        assert!(m.proc.running(), "a confd exited:\n{}", m.proc.log());
    }
    for a in &mut agents {
        assert!(a.running(), "an agent exited:\n{}", a.log());
    }
    let first = fleet[0].dest();
    assert!(fleet.iter().all(|m| m.dest() == first));
    assert_eq!(first.lines().count(), registered.len(), "{first}");
}

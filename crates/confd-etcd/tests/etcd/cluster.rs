//! `Etcd::members`: the cluster's members as etcd lists them, from any member, also when the
//! client was given only one endpoint (the base of following a cluster whose membership
//! changes).

use std::collections::BTreeMap;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use confd_etcd::{Etcd, MembersNotice};
use testkit::EtcdCluster;

use crate::common::{config, Recorder};

#[test]
fn members_lists_the_whole_cluster_from_any_one_endpoint() {
    let cluster = EtcdCluster::start(3);
    let mut want: Vec<String> = cluster.endpoints();
    want.sort();
    for endpoint in cluster.endpoints() {
        let etcd = Etcd::connect(config(std::slice::from_ref(&endpoint))).unwrap();
        let members = etcd.members().unwrap();
        let mut urls: Vec<String> =
            members.iter().flat_map(|m| m.client_urls.iter().cloned()).collect();
        urls.sort();
        assert_eq!(urls, want, "asked {endpoint}");
        let mut names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        names.sort();
        let mut want_names: Vec<&str> = cluster.members().iter().map(|m| m.name()).collect();
        want_names.sort();
        assert_eq!(names, want_names);
        assert!(members.iter().all(|m| m.id != 0 && !m.learner));
    }
    // A member down: the others still answer with the full list (it is still a member).
    cluster.member(0).kill();
    let etcd = Etcd::connect(config(&cluster.endpoints())).unwrap();
    assert_eq!(etcd.members().unwrap().len(), 3);
}

/// Member discovery: a client started with the three original members follows `member add` and
/// `member remove` (each of the three, one at a time, quorum kept) to the fourth member alone,
/// without a restart: its watch delivers every change made along the way, in order, and it can
/// still read, grant leases and register.
#[test]
fn discovery_follows_the_cluster_from_three_members_to_a_fourth_alone() {
    let mut cluster = EtcdCluster::start(3);
    let seeds = cluster.endpoints();
    let notices: Arc<Mutex<Vec<MembersNotice>>> = Arc::default();
    let mut cfg = config(&seeds);
    cfg.member_refresh = Some(Duration::from_millis(200));
    let seen = notices.clone();
    cfg.on_members = Some(Arc::new(move |n| seen.lock().unwrap().push(n)));
    let etcd = Etcd::connect(cfg).unwrap();
    let (tx, rx) = mpsc::channel();
    let _watch = etcd.watch(vec!["/fleet".into()], None, tx);
    let rec = Recorder::start(rx, BTreeMap::new());
    rec.wait(Duration::from_secs(10), "the first read", |r| r.resyncs == 1);

    let mut written = 0;
    let mut write = |cluster: &EtcdCluster| {
        written += 1;
        cluster.put(&format!("/fleet/k{written:02}"), &format!("v{written}"));
        written
    };
    write(&cluster);

    let fourth = cluster.add_member();
    let url = cluster.member(fourth).client_url();
    let following =
        testkit::wait_until(Duration::from_secs(10), || etcd.endpoints().contains(&url));
    assert!(following, "the fourth member was not taken up: {:?}", etcd.endpoints());
    write(&cluster);

    for (gone, removed) in seeds.iter().enumerate() {
        cluster.remove_member(gone);
        assert!(
            cluster.wait_healthy(Duration::from_secs(20)),
            "quorum lost after removing m{gone}"
        );
        let dropped =
            testkit::wait_until(Duration::from_secs(10), || !etcd.endpoints().contains(removed));
        assert!(dropped, "{removed} still in use: {:?}", etcd.endpoints());
        write(&cluster);
    }
    assert_eq!(etcd.endpoints(), vec![url.clone()]);

    // Every change arrived, in order, without a full re-read.
    let want: Vec<(String, Option<String>)> =
        (1..=written).map(|i| (format!("/fleet/k{i:02}"), Some(format!("v{i}")))).collect();
    let r = rec.wait(Duration::from_secs(20), "every write", |r| r.flat().len() >= want.len());
    assert_eq!(r.flat(), want);
    assert_eq!(r.resyncs, 1, "{:#?}", r.events);

    // Reads and registrations go to the remaining member.
    assert_eq!(etcd.read(&["/fleet".into()]).unwrap().kvs.len(), written);
    let lease = etcd.grant(10).unwrap();
    etcd.register(lease.id, &[], &[("/fleet/agent".into(), "up".into())]).unwrap();
    assert_eq!(cluster.get("/fleet/agent").as_deref(), Some("up"));

    let notices = notices.lock().unwrap().clone();
    assert!(notices.iter().all(|n| matches!(n, MembersNotice::Following { .. })), "{notices:#?}");
    let added: Vec<&String> = notices
        .iter()
        .flat_map(|n| match n {
            MembersNotice::Following { added, .. } => added.iter().collect(),
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(added, vec![&url], "{notices:#?}");
}

/// Endpoints that are not members' client URLs (here etcd's grpc-proxy in front of the
/// cluster, which lists itself at its default advertised address, not where it listens) are
/// used as given, and that is said once.
#[test]
fn discovery_keeps_a_proxy_as_given() {
    let cluster = EtcdCluster::start(1);
    let proxy = testkit::GrpcProxy::start(&cluster.endpoints());
    let notices: Arc<Mutex<Vec<MembersNotice>>> = Arc::default();
    let mut cfg = config(&[proxy.url()]);
    cfg.member_refresh = Some(Duration::from_millis(100));
    let seen = notices.clone();
    cfg.on_members = Some(Arc::new(move |n| seen.lock().unwrap().push(n)));
    let etcd = Etcd::connect(cfg).unwrap();
    let told = testkit::wait_until(Duration::from_secs(10), || !notices.lock().unwrap().is_empty());
    assert!(told, "no notice");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        *notices.lock().unwrap(),
        vec![MembersNotice::AsGiven {
            endpoints: vec![proxy.url()],
            members: vec!["http://127.0.0.1:23790".to_string()]
        }]
    );
    assert_eq!(etcd.endpoints(), vec![proxy.url()]);
    cluster.put("/p", "through the proxy");
    assert_eq!(etcd.read(&["/p".into()]).unwrap().kvs.len(), 1);
}

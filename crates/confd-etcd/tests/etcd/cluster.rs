//! `Etcd::members`: the cluster's members as etcd lists them, from any member, also when the
//! client was given only one endpoint (the base of following a cluster whose membership
//! changes).

use confd_etcd::Etcd;
use testkit::EtcdCluster;

use crate::common::config;

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

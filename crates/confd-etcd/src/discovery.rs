//! Member discovery: following a cluster whose membership changes (`etcdctl member add`,
//! `member remove`) without a restart.
//!
//! The configured endpoints are where to start. Every `member_refresh`, the member list is
//! read (from the endpoints in use or, when none of them answers, from the configured ones),
//! and the endpoints in use become the client URLs of the members that serve clients. What to
//! do with a member list is decided by [`Planner`] (pure, unit-tested); [`run`] asks etcd and
//! applies the plan.
//!
//! Configured endpoints none of which is a member's advertised client URL are a proxy (`etcd
//! grpc-proxy` passes the member list through, so following it would go around the proxy), a
//! load balancer, or an alias: they are then used as given, and that is said once. Learners
//! (they refuse most requests) and members added but not started yet (no client URL) are not
//! used. An empty list never replaces the endpoints in use.

use std::sync::Arc;
use std::time::Duration;

use crate::cluster::{members_from, ClusterMember};
use crate::conn::{Conn, Endpoint};
use crate::error::EtcdError;
use crate::{MembersNotice, MembersObserver};

/// What to do with one member list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// The endpoints in use are right.
    Keep,
    /// The configured endpoints are not members: they stay as given, from now on.
    AsGiven { members: Vec<String> },
    /// Use `endpoints` from now on.
    Follow { endpoints: Vec<String>, added: Vec<String>, removed: Vec<String> },
}

/// Decides, member list by member list, which endpoints to use.
#[derive(Debug, Default)]
pub(crate) struct Planner {
    /// Whether the configured endpoints are members (so the members are followed); settled
    /// by the first member list that names any client URL.
    following: Option<bool>,
}

impl Planner {
    /// The plan for `members`, given the configured endpoints (`seeds`) and those in use.
    pub(crate) fn plan(
        &mut self,
        seeds: &[String],
        current: &[String],
        members: &[ClusterMember],
    ) -> Plan {
        let scheme = seeds.first().and_then(|s| s.split_once("://")).map_or("http", |(s, _)| s);
        let urls = client_urls(members, scheme);
        if urls.is_empty() {
            return Plan::Keep;
        }
        let following = match self.following {
            Some(following) => following,
            None => {
                let following =
                    seeds.iter().any(|s| urls.binary_search(&normalize(s, scheme)).is_ok());
                self.following = Some(following);
                if !following {
                    // Said once, when the first list settles it.
                    return Plan::AsGiven { members: urls };
                }
                following
            }
        };
        if !following {
            return Plan::Keep;
        }
        let in_use: Vec<String> = sorted(current.iter().map(|u| normalize(u, scheme)));
        if in_use == urls {
            return Plan::Keep;
        }
        let added = urls.iter().filter(|u| in_use.binary_search(u).is_err()).cloned().collect();
        let removed = in_use.iter().filter(|u| urls.binary_search(u).is_err()).cloned().collect();
        Plan::Follow { endpoints: urls, added, removed }
    }
}

/// The client URLs of the members that serve clients (started, not learners), http(s) only
/// (`scheme` where a URL has none, as etcd's grpc-proxy lists itself), normalized, sorted,
/// each once.
pub(crate) fn client_urls(members: &[ClusterMember], scheme: &str) -> Vec<String> {
    sorted(
        members
            .iter()
            .filter(|m| !m.learner)
            .flat_map(|m| m.client_urls.iter())
            .map(|u| normalize(u, scheme))
            .filter(|u| usable(u)),
    )
}

/// `url` without surrounding blanks or a trailing `/`, its scheme (`default` if it has none)
/// in lower case.
fn normalize(url: &str, default: &str) -> String {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://").unwrap_or((default, url));
    format!("{}://{}", scheme.to_ascii_lowercase(), rest.trim_end_matches('/'))
}

/// Whether a normalized URL is `http(s)://HOST[:PORT]` and nothing else.
fn usable(url: &str) -> bool {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", ""));
    matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && !rest.contains(|c: char| c == '/' || c.is_whitespace())
}

fn sorted(urls: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = urls.collect();
    v.sort();
    v.dedup();
    v
}

/// Refreshes the endpoints from the member list every `every`, the first time at once;
/// runs until the runtime stops. A refusal is told once, until a member list is read again;
/// no member answering is not told here (reads and the watch say so).
pub(crate) async fn run(conn: Arc<Conn>, every: Duration, observer: Option<MembersObserver>) {
    let tell = |notice: MembersNotice| {
        if let Some(o) = &observer {
            o(notice);
        }
    };
    let mut planner = Planner::default();
    let mut failing = false;
    loop {
        let outcome = match members_anywhere(&conn).await {
            Err(e) => Err(e),
            Ok(members) => {
                let seeds = urls_of(&conn.seeds());
                let current = urls_of(&conn.current());
                match planner.plan(&seeds, &current, &members) {
                    Plan::Keep => Ok(None),
                    Plan::AsGiven { members } => {
                        Ok(Some(MembersNotice::AsGiven { endpoints: current, members }))
                    }
                    Plan::Follow { endpoints, added, removed } => conn
                        .replace(&endpoints)
                        .map(|()| Some(MembersNotice::Following { endpoints, added, removed })),
                }
            }
        };
        match outcome {
            Ok(notice) => {
                failing = false;
                notice.map(tell);
            }
            // No member answering is the reads' and the watch's to report; a refusal (or
            // URLs that cannot be used) is discovery's own.
            Err(EtcdError::Unreachable { .. } | EtcdError::Timeout { .. }) => {}
            Err(e) if !failing => {
                failing = true;
                tell(MembersNotice::Failed(e));
            }
            Err(_) => {}
        }
        tokio::time::sleep(every).await;
    }
}

/// The member list from the endpoints in use, or else from the configured ones not in use.
async fn members_anywhere(conn: &Conn) -> Result<Vec<ClusterMember>, EtcdError> {
    let current = conn.current();
    let first = members_from(conn, &current).await;
    let Err(e) = first else { return first };
    let others: Vec<Arc<Endpoint>> =
        conn.seeds().iter().filter(|s| !current.iter().any(|c| c.url == s.url)).cloned().collect();
    if others.is_empty() {
        return Err(e);
    }
    members_from(conn, &others).await.map_err(|_| e)
}

fn urls_of(list: &[Arc<Endpoint>]) -> Vec<String> {
    list.iter().map(|e| e.url.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: u64, urls: &[&str]) -> ClusterMember {
        ClusterMember {
            id,
            name: if urls.is_empty() { String::new() } else { format!("m{id}") },
            client_urls: urls.iter().map(|u| u.to_string()).collect(),
            learner: false,
        }
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    const A: &str = "http://127.0.0.1:2001";
    const B: &str = "http://127.0.0.1:2002";
    const C: &str = "http://127.0.0.1:2003";
    const D: &str = "http://127.0.0.1:2004";

    #[test]
    fn the_configured_members_are_kept_as_they_are() {
        let mut p = Planner::default();
        let seeds = strings(&[C, A, B]);
        let members = [member(1, &[A]), member(2, &[B]), member(3, &[C])];
        assert_eq!(p.plan(&seeds, &seeds, &members), Plan::Keep);
    }

    #[test]
    fn one_configured_member_leads_to_the_whole_cluster() {
        let mut p = Planner::default();
        let seeds = strings(&[B]);
        let members = [member(1, &[A]), member(2, &[B]), member(3, &[C])];
        assert_eq!(
            p.plan(&seeds, &seeds, &members),
            Plan::Follow {
                endpoints: strings(&[A, B, C]),
                added: strings(&[A, C]),
                removed: vec![]
            }
        );
    }

    #[test]
    fn a_cluster_replaced_member_by_member_is_followed_to_the_end() {
        let mut p = Planner::default();
        let seeds = strings(&[A, B, C]);
        // member add: the new member has no client URL until it starts.
        let adding = [member(1, &[A]), member(2, &[B]), member(3, &[C]), member(4, &[])];
        assert_eq!(p.plan(&seeds, &seeds, &adding), Plan::Keep);
        let four = [member(1, &[A]), member(2, &[B]), member(3, &[C]), member(4, &[D])];
        let plan = p.plan(&seeds, &seeds, &four);
        assert_eq!(
            plan,
            Plan::Follow {
                endpoints: strings(&[A, B, C, D]),
                added: strings(&[D]),
                removed: vec![]
            }
        );
        let current = strings(&[A, B, C, D]);
        let without_a = [member(2, &[B]), member(3, &[C]), member(4, &[D])];
        assert_eq!(
            p.plan(&seeds, &current, &without_a),
            Plan::Follow { endpoints: strings(&[B, C, D]), added: vec![], removed: strings(&[A]) }
        );
        // Once following, the configured endpoints no longer matter: none of them is left.
        let only_d = [member(4, &[D])];
        assert_eq!(
            p.plan(&seeds, &strings(&[B, C, D]), &only_d),
            Plan::Follow { endpoints: strings(&[D]), added: vec![], removed: strings(&[B, C]) }
        );
        assert_eq!(p.plan(&seeds, &strings(&[D]), &only_d), Plan::Keep);
    }

    #[test]
    fn endpoints_that_are_not_members_are_used_as_given_and_said_once() {
        // A grpc-proxy (or a load balancer) in front of the cluster.
        let mut p = Planner::default();
        let seeds = strings(&["http://127.0.0.1:23790"]);
        let members = [member(1, &[A]), member(2, &[B])];
        assert_eq!(p.plan(&seeds, &seeds, &members), Plan::AsGiven { members: strings(&[A, B]) });
        assert_eq!(p.plan(&seeds, &seeds, &members), Plan::Keep);
        // Even when a later list would name a configured endpoint.
        let members = [member(1, &["http://127.0.0.1:23790"]), member(2, &[B])];
        assert_eq!(p.plan(&seeds, &seeds, &members), Plan::Keep);
    }

    #[test]
    fn empty_lists_learners_and_odd_urls_never_replace_the_endpoints() {
        let mut p = Planner::default();
        let seeds = strings(&[A]);
        assert_eq!(p.plan(&seeds, &seeds, &[]), Plan::Keep);
        assert_eq!(p.plan(&seeds, &seeds, &[member(9, &[])]), Plan::Keep);
        let mut learner = member(2, &[B]);
        learner.learner = true;
        let odd = member(3, &["unix:///run/etcd.sock", "http://", "ftp://x:1", " "]);
        assert_eq!(p.plan(&seeds, &seeds, &[member(1, &[A]), learner, odd]), Plan::Keep);
    }

    #[test]
    fn a_grpc_proxy_listing_itself_without_a_scheme_is_understood() {
        // etcd 3.4's grpc-proxy answers the member list with itself, at its advertised
        // address, without a scheme: by default 127.0.0.1:23790, whatever it listens on.
        let proxy = member(0, &["127.0.0.1:23790"]);
        let mut p = Planner::default();
        let seeds = strings(&["http://127.0.0.1:23790"]);
        assert_eq!(p.plan(&seeds, &seeds, std::slice::from_ref(&proxy)), Plan::Keep);
        let mut p = Planner::default();
        let seeds = strings(&["http://127.0.0.1:41000"]);
        assert_eq!(
            p.plan(&seeds, &seeds, &[proxy]),
            Plan::AsGiven { members: strings(&["http://127.0.0.1:23790"]) }
        );
        let mut p = Planner::default();
        let seeds = strings(&["https://127.0.0.1:23790"]);
        assert_eq!(p.plan(&seeds, &seeds, &[member(0, &["127.0.0.1:23790"])]), Plan::Keep);
    }

    #[test]
    fn urls_compare_without_trailing_slashes_or_scheme_case() {
        let mut p = Planner::default();
        let seeds = strings(&["HTTP://127.0.0.1:2001/"]);
        let members = [member(1, &[&format!("{A}/")]), member(2, &[B, B])];
        assert_eq!(
            p.plan(&seeds, &seeds, &members),
            Plan::Follow { endpoints: strings(&[A, B]), added: strings(&[B]), removed: vec![] }
        );
    }
}

//! The cluster's members as etcd lists them (`Cluster/MemberList`): what a client needs to
//! follow a cluster whose membership changes (`member add`, `member remove`), rather than only
//! the `-node`s it was started with.

use std::sync::Arc;

use crate::conn::{CallError, Conn, Endpoint};
use crate::error::EtcdError;

/// One member of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterMember {
    pub id: u64,
    /// Empty for a member added but not started yet.
    pub name: String,
    /// Where clients reach it; empty for a member added but not started yet.
    pub client_urls: Vec<String>,
    /// A learner does not vote and serves no linearizable reads.
    pub learner: bool,
}

pub(crate) async fn members(conn: &Conn) -> Result<Vec<ClusterMember>, EtcdError> {
    members_from(conn, &conn.current()).await
}

/// The member list, asked of `endpoints` (with fail-over among them).
pub(crate) async fn members_from(
    conn: &Conn,
    endpoints: &[Arc<Endpoint>],
) -> Result<Vec<ClusterMember>, EtcdError> {
    let answer = conn.call_on(endpoints, |c| async move { c.member_list().await }).await;
    let list = answer.map_err(|e| match e {
        CallError::Error(e) => e,
        CallError::PermissionDenied { endpoint } => EtcdError::Etcd {
            endpoint,
            code: "PermissionDenied".into(),
            message: "this user may not list the cluster's members".into(),
        },
        CallError::Compacted => EtcdError::Etcd {
            endpoint: conn.preferred_url(),
            code: "OutOfRange".into(),
            message: "unexpected compaction error".into(),
        },
    })?;
    Ok(list
        .members
        .into_iter()
        .map(|m| ClusterMember {
            id: m.id,
            name: m.name,
            client_urls: m.client_urls,
            learner: m.is_learner,
        })
        .collect())
}

//! The cluster's members as etcd lists them (`Cluster/MemberList`): what a client needs to
//! follow a cluster whose membership changes (`member add`, `member remove`), rather than only
//! the `-node`s it was started with.

use crate::conn::{CallError, Conn};
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
    let answer = conn.call(|c| async move { c.member_list().await }).await;
    let list = answer.map_err(|e| match e {
        CallError::Error(e) => e,
        CallError::PermissionDenied { endpoint } => EtcdError::Etcd {
            endpoint,
            code: "PermissionDenied".into(),
            message: "this user may not list the cluster's members".into(),
        },
        CallError::Compacted => EtcdError::Etcd {
            endpoint: conn.url(conn.preferred()).to_string(),
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
